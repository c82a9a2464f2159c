"""Real concurrent writers: optimistic concurrency and outbox commit order.

Each writer is a thread with its own event loop and its own engine (its own connections),
so the database — not Python — arbitrates.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import anyio
import attrs
import pytest

from nexa_adapters.sql import SqlStore
from nexa_core.errors import ConcurrencyError
from nexa_core.model import DomainEvent
from nexa_core.runtime import FixedClock
from nexa_core.tenancy import TenantContext
from nexa_core.testing.samples import sample
from nexa_core.urn import Urn

LAN = TenantContext.system("urn:airline:LAN")
ROUNDS = 8


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest) -> str:
    if request.param == "sqlite":
        return str(request.getfixturevalue("sqlite_url"))
    request.getfixturevalue("pg_engine")  # empties the session database
    return str(request.getfixturevalue("pg_database_url"))


def _event(n: int) -> DomainEvent:
    return DomainEvent(
        Urn("event", f"e-{n}"),
        LAN.airline_urn,
        "case.created",
        Urn("case", "c-1"),
        FixedClock().now(),
        data={"n": n},
        key=f"k-{n}",
    )


def test_two_concurrent_writers_of_one_version_one_wins_and_no_update_is_lost(
    db_url: str,
) -> None:
    setup = SqlStore.from_url(db_url, migrate=False)
    item = sample("reviews")
    anyio.run(setup.reviews.add, LAN, item)
    barrier = threading.Barrier(2)
    outcomes: dict[str, list[str]] = {"A": [], "B": []}

    def writer(name: str) -> None:
        store = SqlStore.from_url(db_url, migrate=False)

        async def rounds() -> None:
            for n in range(ROUNDS):
                barrier.wait()
                current = await store.reviews.get(LAN, item.urn)
                barrier.wait()  # both now hold the same version
                try:
                    async with store.transaction() as tx:
                        changed = attrs.evolve(current, reason=f"{current.reason}|{name}{n}")
                        await tx.reviews.update(LAN, changed)
                        await anyio.sleep(0.02)  # keep the row locked while the other tries
                    outcomes[name].append(f"{name}{n}")
                except ConcurrencyError:
                    outcomes[name].append("lost")
            await store.close()

        anyio.run(rounds)

    threads = [threading.Thread(target=writer, args=(n,)) for n in "AB"]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    winners = [a if a != "lost" else b for a, b in zip(outcomes["A"], outcomes["B"], strict=True)]
    for a, b in zip(outcomes["A"], outcomes["B"], strict=True):
        assert (a == "lost") != (b == "lost"), "exactly one writer wins each round"
    final = anyio.run(setup.reviews.get, LAN, item.urn)
    assert final.version == 1 + ROUNDS
    assert final.reason == item.reason + "".join(f"|{w}" for w in winners)
    anyio.run(setup.close)


def test_an_outbox_record_committed_later_is_never_passed_over(db_url: str) -> None:
    """T1 appends (and reading its own outbox makes it allocate the position) and stays open;
    T2 appends and commits (PostgreSQL) or waits for T1 (SQLite has one writer). A relay
    reading meanwhile must not see T2's record (it would skip T1's lower position); after
    T1 commits, both are read in position order."""
    postgres = db_url.startswith("postgresql")
    store = SqlStore.from_url(db_url, migrate=False)
    reader = SqlStore.from_url(db_url, migrate=False)
    t2_done = threading.Event()

    def second_writer() -> None:
        other = SqlStore.from_url(db_url, migrate=False)

        async def run() -> None:
            async with other.transaction() as tx:
                await tx.outbox.append(LAN, _event(2))
            await other.close()

        anyio.run(run)
        t2_done.set()

    async def main() -> list[Any]:
        async with store.transaction() as tx:
            await tx.outbox.append(LAN, _event(1))
            # reading the outbox inside the transaction writes the queued row now, so T1
            # holds a position while it stays open
            assert len(await tx.outbox.read_after(0)) == 1
            thread = threading.Thread(target=second_writer)
            thread.start()
            if postgres:  # appends take no lock: T2 commits while T1 is open
                await anyio.to_thread.run_sync(t2_done.wait, 10)
            else:
                await anyio.sleep(0.5)
            seen_while_open = await reader.outbox.read_after(0)
            assert seen_while_open == [], "a record passed T1's uncommitted position"
            assert t2_done.is_set() is postgres
        await anyio.to_thread.run_sync(thread.join, 30)
        return await reader.outbox.read_after(0)

    records = anyio.run(main)
    assert [r.event.data["n"] for r in records] == [1, 2]
    assert records[0].position < records[1].position
    anyio.run(store.close)
    anyio.run(reader.close)
    time.sleep(0)


def test_a_transaction_waiting_for_a_row_never_blocks_an_outbox_commit(db_url: str) -> None:
    """T2 updates a row and appends an event; T1 appends an event, then waits for T2's row.
    Nothing T1 holds may stop T2 from committing: T2 commits, T1 gets ConcurrencyError —
    no deadlock, no lost event."""
    setup = SqlStore.from_url(db_url, migrate=False)
    item = anyio.run(setup.reviews.add, LAN, sample("reviews"))
    t2_holds_row = threading.Event()
    outcome: dict[str, str] = {}

    def t1() -> None:
        store = SqlStore.from_url(db_url, migrate=False)

        async def run() -> None:
            t2_holds_row.wait(10)
            try:
                async with store.transaction() as tx:
                    await tx.outbox.append(LAN, _event(1))
                    await tx.reviews.update(LAN, attrs.evolve(item, reason="t1"))
                outcome["t1"] = "committed"
            except ConcurrencyError:
                outcome["t1"] = "stale"
            except Exception as exc:  # a deadlock would land here
                outcome["t1"] = repr(exc)
            await store.close()

        anyio.run(run)

    def t2() -> None:
        store = SqlStore.from_url(db_url, migrate=False)

        async def run() -> None:
            async with store.transaction() as tx:
                await tx.reviews.update(LAN, attrs.evolve(item, reason="t2"))
                await tx.outbox.append(LAN, _event(2))
                t2_holds_row.set()
                await anyio.sleep(0.5)  # T1 is now waiting for the row
            outcome["t2"] = "committed"
            await store.close()

        anyio.run(run)

    threads = [threading.Thread(target=t1), threading.Thread(target=t2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert outcome == {"t1": "stale", "t2": "committed"}
    assert [r.event.data["n"] for r in anyio.run(setup.outbox.read_after, 0)] == [2]
    assert anyio.run(setup.reviews.get, LAN, item.urn).reason == "t2"
    anyio.run(setup.close)


def test_a_rolled_back_position_does_not_hold_the_relay_back(db_url: str) -> None:
    """A transaction takes a position and rolls back: the gap it leaves is final, so a
    relay reads past it (in order) as soon as the later record is committed."""
    store = SqlStore.from_url(db_url, migrate=False)

    async def main() -> list[Any]:
        with pytest.raises(RuntimeError):
            async with store.transaction() as tx:
                await tx.outbox.append(LAN, _event(1))
                assert len(await tx.outbox.read_after(0)) == 1  # the position is taken
                raise RuntimeError("give up")
        async with store.transaction() as tx:
            await tx.outbox.append(LAN, _event(2))
        return await store.outbox.read_after(0)

    records = anyio.run(main)
    assert [r.event.data["n"] for r in records] == [2]
    anyio.run(store.close)


def test_concurrent_appenders_and_a_relay_never_skip_or_repeat_a_record(db_url: str) -> None:
    """Writers on their own engines append events in transactions that stay open for a
    while; a relay polls throughout, saving its position after each batch like
    ``OutboxRelay``. At the end it has seen every committed event exactly once, in
    position order."""
    writers, per_writer = 4, 12
    seen: list[tuple[int, int]] = []
    stop = threading.Event()

    def writer(w: int) -> None:
        store = SqlStore.from_url(db_url, migrate=False)

        async def run() -> None:
            for i in range(per_writer):
                async with store.transaction() as tx:
                    await tx.outbox.append(LAN, _event(w * 1000 + i))
                    assert await tx.outbox.read_after(2**40) == []  # takes the position now
                    await anyio.sleep(0.01 * ((w + i) % 3))  # commit out of position order
            await store.close()

        anyio.run(run)

    def relay() -> None:
        store = SqlStore.from_url(db_url, migrate=False)

        async def run() -> None:
            position = 0
            while True:
                done = stop.is_set()  # writers finished before this read
                batch = await store.outbox.read_after(position, limit=7)
                for r in batch:
                    seen.append((r.position, r.event.data["n"]))
                    position = r.position
                if done and not batch:
                    break
                await anyio.sleep(0.003)
            await store.close()

        anyio.run(run)

    reader = threading.Thread(target=relay)
    reader.start()
    threads = [threading.Thread(target=writer, args=(w,)) for w in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    stop.set()
    reader.join(60)
    positions = [p for p, _ in seen]
    assert positions == sorted(positions)
    assert sorted(n for _, n in seen) == sorted(
        w * 1000 + i for w in range(writers) for i in range(per_writer)
    )
