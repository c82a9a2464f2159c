"""A saga worker process for the crash tests (``python -m tests.saga.crash_worker DIR``).

Everything it touches survives SIGKILL: the SQL store (app.db or a PostgreSQL URL), the
DBOS system database, and the sandbox ledger (bookings + holds). It enqueues every saga
listed in DIR/inputs.json (idempotent: the workflow id is the sub-case URN + saga), then
waits for all of them and exits 0.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import anyio

from nexa_adapters.engine.dbos_engine import DbosEngine
from nexa_adapters.render import JinjaRenderer
from nexa_adapters.sandbox import FaultInjector, SandboxMessages
from nexa_adapters.sandbox.ledger import LedgerBooking, LedgerCoordination, SandboxLedger
from nexa_adapters.sql.store import SqlStore
from nexa_core.runtime import SystemClock, UuidIds
from nexa_core.saga import DEFAULT_RETRY_POLICIES, SagaDeps, SubCaseSagas
from nexa_core.urn import VendorRegistry


def build(directory: Path, config: dict[str, Any], *, seed: int) -> tuple[DbosEngine, SqlStore]:
    ledger = SandboxLedger(directory / "ledger.db")
    faults = FaultInjector(transient_rate=config.get("transient", 0.2), seed=seed)
    booking = LedgerBooking(
        ledger, "sandbox", faults=faults, lost_reply_rate=config.get("lost_reply", 0.05), seed=seed
    )
    store_url, engine_url = config["store_url"], config["engine_url"]
    store = SqlStore.from_url(store_url)
    deps = SagaDeps(
        store=store,
        coordination=LedgerCoordination(ledger),
        booking=VendorRegistry({"sandbox": booking}),
        payments=None,
        transport={},
        notifications={"sandbox": SandboxMessages()},
        clock=SystemClock(),
        ids=UuidIds(),
        renderer=JinjaRenderer(),
    )
    engine = DbosEngine.from_url(engine_url, time_scale=0.02, worker_concurrency=8)
    for program in SubCaseSagas(deps, DEFAULT_RETRY_POLICIES).programs():
        engine.register(program)
    return engine, store


async def main(directory: Path) -> None:
    config = json.loads((directory / "config.json").read_text())
    seed = int.from_bytes(os.urandom(2), "big")
    engine, store = build(directory, config, seed=seed)
    await engine.launch()
    recovered = await engine.recover(list(config.get("recover", [])))
    print(f"recovered {len(recovered)}", flush=True)
    inputs = json.loads((directory / "inputs.json").read_text())
    if config.get("enqueue", True):
        ids = [await engine.start("subcase-booking@1", i["sub_case"], i) for i in inputs]
    else:
        ids = [f"{i['sub_case']}/subcase-booking@1" for i in inputs]
    for wf_id in ids:
        await engine.result(wf_id)
    print(f"done {len(ids)}", flush=True)
    await store.close()
    engine.destroy()


if __name__ == "__main__":
    anyio.run(main, Path(sys.argv[1]))
