"""Sub-case sagas per second on the DBOS engine (SQLite and PostgreSQL) vs raw INSERT+COMMIT.

Zero-latency sandbox partners, the SQL operational store on the same database kind as the
engine's system database, one worker process (queue, 8 sagas at a time). Prints one line per backend::

    python benchmarks/saga.py [--sagas 100] [--postgres postgresql+psycopg://…/test]

PostgreSQL runs in a throw-away database created next to the given one (skipped when the
server is unreachable). Numbers depend heavily on the machine: compare rows, not runs.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
import uuid
from datetime import date
from pathlib import Path

import attrs
import sqlalchemy as sa

from nexa_adapters.engine import DbosEngine, InProcessEngine
from nexa_adapters.inprocess.coordination import InProcessCoordination
from nexa_adapters.memory import MemoryStore
from nexa_adapters.render import JinjaRenderer
from nexa_adapters.sandbox import SandboxBooking, SandboxHotels, SandboxMessages, airport
from nexa_adapters.sql.store import SqlStore
from nexa_core.model import CaseStatus, PaymentMode, RoomType
from nexa_core.ports import HotelSearch
from nexa_core.runtime import SystemClock, UuidIds
from nexa_core.saga import CareInstructions, PartnerGate, SagaDeps, SubCaseSagas, booking_input
from nexa_core.tenancy import TenantContext
from nexa_core.testing import make_case, make_group, make_sub_case
from nexa_core.urn import Urn, VendorRegistry

LAN = TenantContext.system("urn:airline:LAN")


def raw_insert_rate(url: str, n: int = 500) -> float:
    """INSERT + COMMIT per second, one row per transaction."""
    engine = sa.create_engine(url)
    table = f"bench_{uuid.uuid4().hex[:8]}"
    with engine.begin() as conn:
        conn.execute(sa.text(f"CREATE TABLE {table} (id INTEGER PRIMARY KEY, v TEXT)"))
    start = time.perf_counter()
    for i in range(n):
        with engine.begin() as conn:
            conn.execute(sa.text(f"INSERT INTO {table} (id, v) VALUES (:i, 'x')"), {"i": i})
    elapsed = time.perf_counter() - start
    with engine.begin() as conn:
        conn.execute(sa.text(f"DROP TABLE {table}"))
    engine.dispose()
    return n / elapsed


async def saga_rate(store, engine, n: int) -> float:  # type: ignore[no-untyped-def]
    hotels = SandboxHotels("sandbox", hotels=40, rooms_scale=20.0)
    offers = [
        o
        for o in await hotels.search(
            HotelSearch(LAN.airline_urn, airport("SCL"), date(2026, 5, 5), date(2026, 5, 6), 1)
        )
        if PaymentMode.GUARANTEE in o.accepted_payments
    ]
    deps = SagaDeps(
        store=store,
        coordination=InProcessCoordination(),
        booking=VendorRegistry({"sandbox": SandboxBooking("sandbox")}),
        payments=None,
        transport={},
        notifications={"sandbox": SandboxMessages()},
        clock=SystemClock(),
        ids=UuidIds(),
        renderer=JinjaRenderer(),
    )
    # partner rate limits off: this measures the engine, not a partner's 5 bookings/s
    unlimited = {op: 1e6 for op in ("booking", "cancel", "card", "transport", "notification")}
    deps = attrs.evolve(deps, gate=PartnerGate(deps.coordination, rates=unlimited))
    for program in SubCaseSagas(deps).programs():
        engine.register(program)
    await engine.launch()
    case = await store.cases.add(LAN, make_case(f"c-{uuid.uuid4().hex[:8]}"))
    case = await store.cases.update(LAN, case.transition(CaseStatus.ALLOCATING))
    case = await store.cases.update(LAN, case.transition(CaseStatus.BOOKING))
    inputs = []
    for i in range(n):
        sub = await store.sub_cases.add(
            LAN,
            make_sub_case(
                f"sc-{uuid.uuid4().hex[:10]}", case=case, group=make_group(f"G{i}", pnr=f"B{i:05d}")
            ),
        )
        inputs.append(
            booking_input(
                sub,
                wave_urn=Urn("wave", "w-bench"),
                candidates=offers[i % len(offers) : i % len(offers) + 4] or offers[:4],
                rooms=(RoomType.DBL,),
                care=CareInstructions(),
            )
        )
    start = time.perf_counter()
    ids = await asyncio.gather(
        *(engine.start("subcase-booking@1", i["sub_case"], i) for i in inputs)
    )
    outcomes = [await engine.result(w) for w in ids]
    elapsed = time.perf_counter() - start
    assert all(o.completed for o in outcomes), [o.error for o in outcomes if not o.completed][:3]
    return n / elapsed


def _pg_database(url: str) -> tuple[str, str] | None:
    import psycopg

    admin = url.replace("postgresql+psycopg://", "postgresql://")
    name = f"nexa_bench_{uuid.uuid4().hex[:8]}"
    try:
        with psycopg.connect(admin, autocommit=True, connect_timeout=2) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError:
        return None
    return admin, f"{url.rsplit('/', 1)[0]}/{name}"


def _drop(admin: str, url: str) -> None:
    import psycopg

    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sagas", type=int, default=100)
    parser.add_argument(
        "--postgres",
        default=os.environ.get(
            "NEXA_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
        ),
    )
    args = parser.parse_args()
    n = args.sagas
    print(f"{'backend':<28} {'sagas/s':>9} {'INSERT+COMMIT/s':>16}")
    rate = asyncio.run(saga_rate(MemoryStore(), InProcessEngine(), n))
    print(f"{'in-process + memory':<28} {rate:>9.1f} {'-':>16}")
    with tempfile.TemporaryDirectory() as tmp:
        app = f"sqlite:///{Path(tmp) / 'app.db'}"
        raw = raw_insert_rate(f"sqlite:///{Path(tmp) / 'raw.db'}")
        engine = DbosEngine.from_url(f"dbos+sqlite:///{Path(tmp) / 'engine.db'}?executor=bench")
        try:
            rate = asyncio.run(saga_rate(SqlStore.from_url(app), engine, n))
        finally:
            engine.destroy()
        print(f"{'DBOS + SQLite':<28} {rate:>9.1f} {raw:>16.1f}")
        engine = DbosEngine.from_url(f"dbos+sqlite:///{Path(tmp) / 'engine2.db'}?executor=bench")
        try:
            rate = asyncio.run(saga_rate(MemoryStore(), engine, n))
        finally:
            engine.destroy()
        print(f"{'DBOS + SQLite, memory store':<28} {rate:>9.1f} {'-':>16}")
    pg = _pg_database(args.postgres)
    if pg is None:
        print(f"{'DBOS + PostgreSQL':<28} {'skipped (server unreachable)':>26}")
        return
    admin, url = pg
    try:
        raw = raw_insert_rate(url)
        engine = DbosEngine.from_url("dbos+" + url + "?executor=bench")
        try:
            rate = asyncio.run(saga_rate(SqlStore.from_url(url, migrate=True), engine, n))
        finally:
            engine.destroy()
        print(f"{'DBOS + PostgreSQL':<28} {rate:>9.1f} {raw:>16.1f}")
    finally:
        _drop(admin, url)


if __name__ == "__main__":
    main()
