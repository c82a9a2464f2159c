"""Crash tests: SIGKILL a DBOS saga worker at random moments; nothing lost or duplicated.

Sizes: 200 sub-case sagas, 10 kills, booking partner failing transiently 20% of the time
(plus 5% lost replies after a booking was made). Marked slow.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import date
from pathlib import Path

import anyio
import pytest

from nexa_adapters.sandbox import SandboxHotels, airport
from nexa_adapters.sandbox.ledger import SandboxLedger
from nexa_adapters.sql.store import SqlStore
from nexa_core.model import CaseStatus, PaymentMode, RoomType, SubCaseStatus
from nexa_core.ports import HotelSearch
from nexa_core.saga import CareInstructions, booking_input
from nexa_core.tenancy import TenantContext
from nexa_core.testing import make_case, make_group, make_sub_case
from nexa_core.urn import Urn

ROOT = Path(__file__).resolve().parents[2]
LAN = TenantContext.system("urn:airline:LAN")
SAGAS = 200
KILLS = 10


async def _seed(store_url: str, n: int) -> list[dict[str, object]]:
    store = SqlStore.from_url(store_url, migrate=True)
    hotels = SandboxHotels("sandbox", seed=7, hotels=40, rooms_scale=3.0)
    offers = [
        o
        for o in await hotels.search(
            HotelSearch(LAN.airline_urn, airport("SCL"), date(2026, 5, 5), date(2026, 5, 6), 1)
        )
        if PaymentMode.GUARANTEE in o.accepted_payments
    ]
    case = make_case("c-crash")
    case = await store.cases.add(LAN, case)
    case = await store.cases.update(LAN, case.transition(CaseStatus.ALLOCATING))
    case = await store.cases.update(LAN, case.transition(CaseStatus.BOOKING))
    inputs = []
    rng = random.Random(5)
    for i in range(n):
        sub = make_sub_case(f"sc-{i:04d}", case=case, group=make_group(f"G{i}", pnr=f"P{i:05d}"))
        sub = await store.sub_cases.add(LAN, sub)
        ranked = rng.sample(offers, 4)
        inputs.append(
            booking_input(
                sub,
                wave_urn=Urn("wave", "w-crash"),
                candidates=ranked,
                rooms=(RoomType.DBL,),
                care=CareInstructions(),
            )
        )
    await store.close()
    return inputs


def _spawn(directory: Path, n: int, executor: str = "crash-worker") -> subprocess.Popen[bytes]:
    env = {**os.environ, "NEXA_EXECUTOR_ID": executor, "PYTHONPATH": str(ROOT)}
    with (directory / f"worker-{n}.log").open("wb") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "tests.saga.crash_worker", str(directory)],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


async def _check(directory: Path, store_url: str, inputs: list[dict[str, object]]) -> None:
    store = SqlStore.from_url(store_url)
    subs = await store.sub_cases.find(LAN, case_urn=Urn("case", "c-crash"))
    assert len(subs) == len(inputs), "a sub-case was lost"
    statuses = Counter(s.status for s in subs)
    assert set(statuses) <= {SubCaseStatus.OFFER_READY, SubCaseStatus.MANUAL_REVIEW}, statuses
    reviews = await store.reviews.find(LAN, case_urn=Urn("case", "c-crash"))
    assert statuses[SubCaseStatus.OFFER_READY] == len(inputs), [r.reason for r in reviews][:3]
    ledger = SandboxLedger(directory / "ledger.db")
    assert ledger.duplicate_keys() == []
    live = ledger.bookings(live_only=True)
    per_reservation = Counter(r for _, _, r, _ in live)
    assert all(c == 1 for c in per_reservation.values()), per_reservation.most_common(3)
    ready = {s.reservation_urn for s in subs if s.status is SubCaseStatus.OFFER_READY}
    assert {Urn.parse(r) for r in per_reservation} == ready
    assert ledger.live_holds() == 0
    for sub in subs:
        if sub.status is SubCaseStatus.OFFER_READY:
            res = await store.reservations.get(LAN, sub.reservation_urn)
            assert res.confirmation_urn is not None
    await store.close()


def _prepare(
    directory: Path, store_url: str, engine_url: str, n: int, **extra: object
) -> list[dict[str, object]]:
    (directory / "config.json").write_text(
        json.dumps({"store_url": store_url, "engine_url": engine_url, **extra})
    )
    inputs = anyio.run(_seed, store_url, n)
    (directory / "inputs.json").write_text(json.dumps(inputs))
    return inputs


def _crash_run(directory: Path, store_url: str, engine_url: str, n: int, kills: int) -> None:
    inputs = _prepare(directory, store_url, engine_url, n)
    rng = random.Random(int.from_bytes(os.urandom(2), "big"))
    for k in range(kills):
        proc = _spawn(directory, k)
        time.sleep(rng.uniform(0.8, 2.2))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
        proc.wait()
    proc = _spawn(directory, kills)
    proc.wait(timeout=240)
    out = (directory / f"worker-{kills}.log").read_text()
    assert proc.returncode == 0, out[-3000:]
    assert f"done {n}" in out
    anyio.run(_check, directory, store_url, inputs)


@pytest.mark.slow
def test_sigkilled_sqlite_worker_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    _crash_run(
        tmp_path,
        f"sqlite:///{tmp_path}/app.db",
        f"dbos+sqlite:///{tmp_path}/engine.db",
        SAGAS,
        KILLS,
    )


@pytest.mark.slow
@pytest.mark.postgres
def test_sigkilled_postgres_worker_loses_and_duplicates_nothing(
    tmp_path: Path, postgres_database: str
) -> None:
    _crash_run(
        tmp_path,
        postgres_database,
        "dbos+" + postgres_database,
        SAGAS,
        KILLS,
    )


@pytest.mark.slow
@pytest.mark.postgres
def test_two_postgres_workers_share_one_case_and_run_no_step_twice(
    tmp_path: Path, postgres_database: str
) -> None:
    n = 60
    inputs = _prepare(
        tmp_path, postgres_database, "dbos+" + postgres_database, n, transient=0.0, lost_reply=0.0
    )
    # the first worker creates the engine schema; the second joins a moment later
    workers = [_spawn(tmp_path, 0, "worker-a")]
    time.sleep(1.0)
    workers.append(_spawn(tmp_path, 1, "worker-b"))
    for k, proc in enumerate(workers):
        proc.wait(timeout=180)
        log = (tmp_path / f"worker-{k}.log").read_text()
        assert proc.returncode == 0, log[-3000:]
    anyio.run(_check, tmp_path, postgres_database, inputs)
    ledger = SandboxLedger(tmp_path / "ledger.db")
    calls = ledger.calls_per_key("book")
    assert set(calls.values()) == {1}, "a booking step ran twice"
    assert len(calls) >= n
    assert ledger.processes("book") == 2, "both workers should have booked"


@pytest.mark.slow
def test_a_dead_executors_runs_are_adopted_by_another_worker(tmp_path: Path) -> None:
    n = 40
    inputs = _prepare(
        tmp_path, f"sqlite:///{tmp_path}/app.db", f"dbos+sqlite:///{tmp_path}/engine.db", n
    )
    dead = _spawn(tmp_path, 0, "worker-dead")
    time.sleep(4.0)
    dead.send_signal(signal.SIGKILL)
    dead.wait()
    config = json.loads((tmp_path / "config.json").read_text())
    (tmp_path / "config.json").write_text(json.dumps({**config, "recover": ["worker-dead"]}))
    other = _spawn(tmp_path, 1, "worker-other")
    other.wait(timeout=180)
    log = (tmp_path / "worker-1.log").read_text()
    assert other.returncode == 0, log[-3000:]
    assert f"done {n}" in log
    assert "recovered 0" not in log, "the dead worker had runs in flight to adopt"
    anyio.run(_check, tmp_path, f"sqlite:///{tmp_path}/app.db", inputs)
