"""Two ``nexa worker`` processes on PostgreSQL run one case's booking sagas together.

The test process is the "API": it runs CaseOrchestrator with a client-only DBOS engine
(enqueue + results, never executes), the workers execute.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import anyio
import pytest

from nexa_adapters.engine import DbosEngine
from nexa_adapters.inprocess.coordination import InProcessCoordination
from nexa_adapters.sandbox import SandboxHotels, airport
from nexa_adapters.sql.store import SqlStore
from nexa_core.model import CaseStatus, SubCaseStatus
from nexa_core.runtime import SystemClock, UuidIds
from nexa_core.services import CaseOrchestrator
from tests.service.flow import OPERATOR, TENANT, _manifest, _policy


def _worker(url: str, executor: str, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "NEXA_STORE_URL": url,
        "NEXA_ENGINE_URL": f"dbos+{url}",
        "NEXA_COORDINATION_URL": "inprocess://",
        "NEXA_SNAPSHOT_URL": "memory://",
    }
    with log.open("wb") as out:
        return subprocess.Popen(
            [str(Path(sys.executable).parent / "nexa"), "worker", "--executor-id", executor],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


async def _client(url: str) -> DbosEngine:
    engine = DbosEngine.from_url(f"dbos+{url}?client=1")
    for _ in range(60):  # the workers create the engine schema
        try:
            await engine.launch()
            return engine
        except Exception:
            await anyio.sleep(0.5)
    raise AssertionError("no worker created the engine schema")


async def _run_case(url: str) -> tuple[list[str], set[str]]:
    store = SqlStore.from_url(url, migrate=True)
    engine: DbosEngine | None = None
    try:
        engine = await _client(url)
        orch = CaseOrchestrator(
            store=store,
            engine=engine,
            clock=SystemClock(),
            ids=UuidIds(),
            airports=airport,
            hotel_providers={"sandbox": SandboxHotels("sandbox", hotels=30, rooms_scale=3.0)},
            coordination=InProcessCoordination(),
            policy=_policy(),
        )
        opened = await orch.open_case(_manifest(groups=24), principal=OPERATOR)
        wave = await orch.run_allocation(opened.case.urn, principal=OPERATOR)
        ids = await orch.book_sub_cases(opened.case.urn, wave.wave.urn, principal=OPERATOR)
        outcomes = await orch.wait(ids, principal=OPERATOR, wait_s=150)
        assert all(o.completed for o in outcomes), [o.error for o in outcomes if not o.completed]
        case = await orch.settle(opened.case.urn, principal=OPERATOR)
        assert case.status is CaseStatus.CONFIRMED
        subs = await store.sub_cases.find(TENANT, case_urn=opened.case.urn)
        assert {s.status for s in subs} == {SubCaseStatus.OFFER_READY}
        rows = await engine._client.list_workflows_async(workflow_ids=ids)
        return ids, {r.executor_id for r in rows}
    finally:  # never leak connections into later tests, even on failure
        if engine is not None:
            await engine.shutdown()
        await store.close()


@pytest.mark.slow
@pytest.mark.postgres
def test_two_nexa_worker_processes_share_a_cases_sagas(
    tmp_path: Path, postgres_database: str
) -> None:
    SqlStore.from_url(postgres_database, migrate=True).engine.dispose()
    workers = [_worker(postgres_database, "worker-a", tmp_path / "a.log")]
    # the first worker creates (migrates) the engine schema alone: wait until it serves
    deadline = time.monotonic() + 90
    while b"serving queue" not in (tmp_path / "a.log").read_bytes():
        assert workers[0].poll() is None, (tmp_path / "a.log").read_text(errors="replace")
        assert time.monotonic() < deadline, "worker-a did not start"
        time.sleep(0.2)
    workers.append(_worker(postgres_database, "worker-b", tmp_path / "b.log"))
    try:
        ids, executors = anyio.run(_run_case, postgres_database)
    finally:
        for w in workers:
            w.send_signal(signal.SIGTERM)
        for w in workers:
            w.wait(timeout=60)
    assert len(ids) == 24
    assert executors == {"worker-a", "worker-b"}, (tmp_path / "a.log").read_text()[-2000:]
