"""Sub-case state changes per second on the SQL store, next to the raw database rate.

Each state change is one unit of work: update the sub-case (optimistic version check),
append an audit entry (before/after of the changed field) and append an outbox event,
then commit. The raw rate is a bare ``INSERT`` + ``COMMIT`` on the same database with
the same connection settings (driver level, no SQLAlchemy, no threads). The ratio is the
figure that matters (target >= 0.5).

    python benchmarks/store.py [--seconds 0.5] [--rounds 9] [--writers 4]
        [--backend sqlite|postgres|all]

PostgreSQL: ``NEXA_TEST_POSTGRES_URL`` (default ``postgresql+psycopg://postgres@127.0.0.1/test``);
a temporary database is created and dropped.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import anyio
import attrs
import sqlalchemy as sa

from nexa_adapters.sql import SqlStore, create_sql_engine
from nexa_adapters.sql.migrate import upgrade
from nexa_core.model import Actor, AuditEntry, DomainEvent, SubCaseStatus, changed_fields
from nexa_core.runtime import SystemClock
from nexa_core.serialization import unstructure
from nexa_core.tenancy import TenantContext
from nexa_core.testing.builders import make_sub_case
from nexa_core.urn import Urn

LAN = TenantContext.system("urn:airline:LAN")
PG_URL = os.environ.get(
    "NEXA_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@contextmanager
def sqlite_database() -> Iterator[str]:
    with tempfile.TemporaryDirectory() as tmp:
        yield f"sqlite:///{Path(tmp) / 'bench.db'}"


@contextmanager
def postgres_database() -> Iterator[str]:
    name = f"nexa_bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield sa.engine.make_url(PG_URL).set(database=name).render_as_string(False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def _timed(seconds: float, step: Callable[[int], None]) -> float:
    n = 0
    start = time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        step(n)
        n += 1
    return n / elapsed


def raw_rate(url: str, seconds: float) -> float:
    """Bare INSERT + COMMIT through the DB-API connection of an identically set-up engine."""
    engine = create_sql_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE IF EXISTS bench_raw")
        conn.exec_driver_sql("CREATE TABLE bench_raw (id INTEGER PRIMARY KEY, payload TEXT)")
    sqlite = engine.dialect.name == "sqlite"
    insert = (
        "INSERT INTO bench_raw (id, payload) VALUES (?, ?)"
        if sqlite
        else "INSERT INTO bench_raw (id, payload) VALUES (%s, %s)"
    )

    def statements(cur: Any, n: int) -> None:
        cur.execute(insert, (n, "x" * 200))

    return _driver_rate(engine, seconds, statements)


def _driver_rate(
    engine: sa.Engine, seconds: float, statements: Callable[[Any, int], None]
) -> float:
    """Units of ``statements`` per second, each in its own transaction, on a DB-API
    connection (SQLite: the engine leaves transaction control to us)."""
    sqlite = engine.dialect.name == "sqlite"
    raw = engine.raw_connection()
    cur = raw.cursor()

    def step(n: int) -> None:
        if sqlite:
            cur.execute("BEGIN IMMEDIATE")
        statements(cur, n)
        raw.commit() if not sqlite else cur.execute("COMMIT")

    try:
        return _timed(seconds, step)
    finally:
        cur.close()
        raw.close()
        engine.dispose()


def floor_rate(url: str, seconds: float) -> float:
    """The same state change with no Python work: its statements (versioned UPDATE of the
    sub-case document, audit INSERT, outbox INSERT, COMMIT) sent at driver level with
    ready-made parameters. What the database itself costs per state change."""
    engine = create_sql_engine(url)
    sqlite = engine.dialect.name == "sqlite"
    ph = "?" if sqlite else "%s"
    sub = make_sub_case(f"sc-floor{uuid.uuid4().hex[:8]}")
    doc = json.dumps(unstructure(sub))
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO nexa_sub_cases (urn, airline_urn, version, case_urn, status, doc)"
                " VALUES (:u, :a, 1, :c, :s, :d)"
            ),
            {"u": str(sub.urn), "a": str(sub.airline_urn), "c": str(sub.case_urn), "s": "PENDING",
             "d": doc},
        )  # fmt: skip
    update = (
        f"UPDATE nexa_sub_cases SET version = {ph}, doc = {ph}, status = {ph}"
        f" WHERE urn = {ph} AND airline_urn = {ph} AND version = {ph}"
    )
    audit = (
        "INSERT INTO nexa_audit (urn, airline_urn, entity_urn, action, correlation_urn, at, doc)"
        f" VALUES ({', '.join([ph] * 7)})"
    )
    outbox = (
        "INSERT INTO nexa_outbox (airline_urn, type, event_urn, key, doc)"
        f" VALUES ({', '.join([ph] * 5)})"
    )
    at = "2026-01-01 00:00:00.000000" if sqlite else datetime(2026, 1, 1, tzinfo=UTC)
    entry = json.dumps({"action": "subcase.transition", "before": {"status": "PENDING"}})
    event = json.dumps({"type": "subcase.status-changed", "data": {"status": "PROCESSING"}})
    statuses = ("PROCESSING", "OFFER_READY")
    a = str(sub.airline_urn)

    def statements(cur: Any, n: int) -> None:
        cur.execute(update, (n + 2, doc, statuses[n % 2], str(sub.urn), a, n + 1))
        cur.execute(audit, (f"urn:audit:f{n}x", a, str(sub.urn), "t", None, at, entry))
        cur.execute(outbox, (a, "t", f"urn:event:f{n}x", f"k{n}x", event))

    return _driver_rate(engine, seconds, statements)


async def store_rate(url: str, seconds: float, writers: int = 1) -> tuple[float, float]:
    """Sub-case state changes (update + audit + outbox, one transaction) per second, and
    units of work per COMMIT (SQLite's write lane groups queued units; 1.0 elsewhere)."""
    store = SqlStore.from_url(url, migrate=False)
    clock = SystemClock()
    tag = uuid.uuid4().hex[:8]
    subs = [await store.sub_cases.add(LAN, make_sub_case(f"sc-{tag}{w}")) for w in range(writers)]
    statuses = (SubCaseStatus.PROCESSING, SubCaseStatus.OFFER_READY)
    count = 0
    deadline = time.perf_counter() + seconds

    async def writer(w: int) -> None:
        nonlocal count
        sub = subs[w]
        n = 0
        while time.perf_counter() < deadline:
            n += 1
            new = attrs.evolve(sub, status=statuses[n % 2])
            before, after = changed_fields({"status": sub.status}, {"status": new.status})
            async with store.transaction() as tx:
                sub = await tx.sub_cases.update(LAN, new)
                await tx.audit.append(
                    LAN,
                    AuditEntry(
                        Urn("audit", f"a-{tag}w{w}n{n}"),
                        LAN.airline_urn,
                        Actor(Urn("user", "system")),
                        "subcase.transition",
                        sub.urn,
                        "benchmark",
                        clock.now(),
                        before=before,
                        after=after,
                    ),
                )
                await tx.outbox.append(
                    LAN,
                    DomainEvent(
                        Urn("event", f"e-{tag}w{w}n{n}"),
                        LAN.airline_urn,
                        "subcase.status-changed",
                        sub.urn,
                        clock.now(),
                        data={"status": str(sub.status)},
                        key=f"{sub.urn}:{sub.version}",
                    ),
                )
            count += 1

    start = time.perf_counter()
    async with anyio.create_task_group() as tg:
        for w in range(writers):
            tg.start_soon(writer, w)
    rate = count / (time.perf_counter() - start)
    lane = store.lane_stats()
    await store.close()
    return rate, (lane["units"] / lane["commits"] if lane["commits"] else 1.0)


def run(name: str, make: Callable[[], Any], seconds: float, writers: int, rounds: int) -> None:
    """Alternate short raw and store measurements; ratios are taken per adjacent pair.

    Disk ``fsync`` latency on shared machines drifts by several times within minutes;
    pairing adjacent slices keeps both sides of each ratio under the same conditions.
    """
    raws: list[float] = []
    floors: list[float] = []
    ones: list[float] = []
    manys: list[float] = []
    grouping: list[float] = []
    with make() as url:
        upgrade_engine = create_sql_engine(url)
        upgrade(upgrade_engine)
        upgrade_engine.dispose()
        for _ in range(rounds):
            raws.append(raw_rate(url, seconds))
            floors.append(floor_rate(url, seconds))
            ones.append(anyio.run(store_rate, url, seconds, 1)[0])
            if writers > 1:
                rate, per_commit = anyio.run(store_rate, url, seconds, writers)
                manys.append(rate)
                grouping.append(per_commit)
    raw = statistics.median(raws)
    one = statistics.median(ones)
    one_ratio = statistics.median(o / r for o, r in zip(ones, raws, strict=True))
    floor_ratio = statistics.median(f / r for f, r in zip(floors, raws, strict=True))
    print(f"{name:<9} raw INSERT+COMMIT           {raw:8.0f} /s")
    print(
        f"{name:<9} floor: its SQL, no Python    {statistics.median(floors):8.0f} /s   "
        f"ratio {floor_ratio:.2f}"
    )
    print(f"{name:<9} sub-case change, 1 writer   {one:8.0f} /s   ratio {one_ratio:.2f}")
    if manys:
        many = statistics.median(manys)
        many_ratio = statistics.median(m / r for m, r in zip(manys, raws, strict=True))
        print(
            f"{name:<9} sub-case change, {writers} writers  {many:8.0f} /s   ratio {many_ratio:.2f}"
            f"   ({statistics.median(grouping):.1f} units per COMMIT)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=0.5)
    parser.add_argument("--backend", choices=["sqlite", "postgres", "all"], default="all")
    parser.add_argument("--writers", type=int, default=4, help="concurrent writers (2nd run)")
    parser.add_argument("--rounds", type=int, default=9, help="interleaved repetitions")
    args = parser.parse_args()
    print(
        f"medians of {args.rounds} interleaved rounds of {args.seconds:g} s slices "
        "(ratio: median of adjacent-pair ratios)"
    )
    if args.backend in ("sqlite", "all"):
        run("sqlite", sqlite_database, args.seconds, args.writers, args.rounds)
    if args.backend in ("postgres", "all"):
        run("postgres", postgres_database, args.seconds, args.writers, args.rounds)


if __name__ == "__main__":
    main()
