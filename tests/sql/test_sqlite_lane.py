"""SQLite's write lane: units of work take turns on one connection and share commits."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import anyio
import anyio.lowlevel
import attrs
import pytest

import nexa_adapters.sql.store as sql_store
from nexa_adapters.sql import SqlStore
from nexa_core.errors import ConfigurationError, ConflictError, StoreUnavailableError
from nexa_core.model import DomainEvent
from nexa_core.runtime import FixedClock
from nexa_core.tenancy import TenantContext
from nexa_core.testing.samples import sample
from nexa_core.urn import Urn

pytestmark = pytest.mark.anyio

LAN = TenantContext.system("urn:airline:LAN")


def _event(n: int) -> DomainEvent:
    return DomainEvent(
        Urn("event", f"lane-{n}"),
        LAN.airline_urn,
        "case.noted",
        Urn("case", f"c-{n}"),
        FixedClock().now(),
        key=f"lane-{n}",
    )


def _path(url: str) -> str:
    return url.removeprefix("sqlite:///")


async def _write(store: SqlStore, n: int, *, fail: bool = False) -> None:
    """One unit of work: a case and its outbox event; yields to the loop in between."""
    async with store.transaction() as tx:
        await tx.cases.add(LAN, attrs.evolve(sample("cases"), urn=Urn("case", f"c-{n}")))
        await anyio.lowlevel.checkpoint()  # let the other units queue behind this one
        await tx.outbox.append(LAN, _event(n))
        if fail:
            raise ValueError(f"unit {n} gives up")


async def test_queued_units_share_commits_and_all_of_them_land(sqlite_url: str) -> None:
    store = SqlStore.from_url(sqlite_url)
    try:
        async with anyio.create_task_group() as tg:
            for n in range(24):
                tg.start_soon(_write, store, n)
        stats = store.lane_stats()
        cases = await store.cases.find(LAN)
        events = await store.outbox.read_after(0, limit=100)
    finally:
        await store.close()
    assert len(cases) == 24
    assert sorted(e.event.key for e in events) == sorted(f"lane-{n}" for n in range(24))
    assert stats["units"] == 24
    assert 1 <= stats["commits"] < 24  # group commit: fewer COMMITs than units


async def test_a_failing_unit_undoes_only_its_own_work(sqlite_url: str) -> None:
    """Unit 0 owns its batch's transaction (no savepoint), 4 and 7 run in savepoints."""
    store = SqlStore.from_url(sqlite_url)
    failing = {0, 4, 7}
    failures: list[int] = []

    async def unit(n: int) -> None:
        try:
            await _write(store, n, fail=n in failing)
        except ValueError:
            failures.append(n)

    try:
        async with anyio.create_task_group() as tg:
            for n in range(9):
                tg.start_soon(unit, n)
        kept = {c.urn.id for c in await store.cases.find(LAN)}
        keys = {r.event.key for r in await store.outbox.read_after(0)}
        stats = store.lane_stats()
    finally:
        await store.close()
    assert sorted(failures) == sorted(failing)
    assert kept == {f"c-{n}" for n in range(9) if n not in failing}
    assert keys == {f"lane-{n}" for n in range(9) if n not in failing}
    assert stats["commits"] < stats["units"]


async def test_a_failed_commit_fails_every_unit_of_its_batch_and_keeps_nothing(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = SqlStore.from_url(sqlite_url)
    outcomes: dict[int, BaseException | None] = {}

    async def unit(n: int) -> None:
        try:
            await _write(store, n)
            outcomes[n] = None
        except StoreUnavailableError as exc:
            outcomes[n] = exc

    try:
        # open the lane, then make its connection's next COMMIT fail like a full disk
        await store.cases.add(LAN, attrs.evolve(sample("cases"), urn=Urn("case", "c-first")))
        lane = store._db.lane()
        real = lane.raw

        class FailingCommit:
            def __getattr__(self, name: str) -> Any:
                return getattr(real, name)

            def commit(self) -> None:
                raise sqlite3.OperationalError("disk I/O error")

        monkeypatch.setattr(lane, "raw", FailingCommit())
        async with anyio.create_task_group() as tg:
            for n in range(6):
                tg.start_soon(unit, n)
        monkeypatch.setattr(lane, "raw", real)
        kept = {c.urn.id for c in await store.cases.find(LAN)}
        events = await store.outbox.read_after(0)
    finally:
        await store.close()
    assert set(outcomes) == set(range(6))
    errors = [e for e in outcomes.values() if e is not None]
    assert len(errors) == 6  # every unit saw the failure ...
    assert all(e.retryable and "disk I/O error" in str(e) for e in errors)
    assert kept == {"c-first"}  # ... and none of them is in the database
    assert events == []


async def test_writing_around_the_open_unit_of_work_is_refused_not_deadlocked(
    sqlite_url: str,
) -> None:
    store = SqlStore.from_url(sqlite_url)
    try:
        with anyio.fail_after(5):
            with pytest.raises(ConflictError, match="transaction's store"):
                async with store.transaction() as tx:
                    await tx.cases.add(LAN, sample("cases"))
                    await store.outbox.append(LAN, _event(1))  # the outer store
        assert await store.cases.find(LAN) == []
    finally:
        await store.close()


async def test_another_task_writing_outside_the_open_unit_waits_for_it(sqlite_url: str) -> None:
    """Only the task holding the unit is refused; a task it starts queues behind the unit
    (and the start-up context it inherits does not mark it as the holder)."""
    store = SqlStore.from_url(sqlite_url)
    order: list[str] = []

    async def outside() -> None:
        await store.outbox.append(LAN, _event(2))
        order.append("outside")

    try:
        with anyio.fail_after(5):
            async with anyio.create_task_group() as tg, store.transaction() as tx:
                await tx.cases.add(LAN, sample("cases"))
                tg.start_soon(outside)
                await anyio.sleep(0.05)  # the other task is queued on the lane now
                await tx.outbox.append(LAN, _event(1))
                order.append("unit")
        keys = [r.event.key for r in await store.outbox.read_after(0)]
    finally:
        await store.close()
    assert order == ["unit", "outside"]
    assert keys == ["lane-1", "lane-2"]


async def test_a_unit_waits_for_another_process_holding_the_database(sqlite_url: str) -> None:
    store = SqlStore.from_url(sqlite_url)
    other = sqlite3.connect(_path(sqlite_url), isolation_level=None)
    done = anyio.Event()

    async def unit() -> None:
        await _write(store, 1)
        done.set()

    try:
        other.execute("BEGIN IMMEDIATE")
        async with anyio.create_task_group() as tg:
            tg.start_soon(unit)
            await anyio.sleep(0.3)
            assert not done.is_set()  # waiting for the other writer, on a worker thread
            other.execute("COMMIT")
            with anyio.fail_after(10):
                await done.wait()
        assert len(await store.cases.find(LAN)) == 1
    finally:
        other.close()
        await store.close()


async def test_a_unit_cancelled_while_waiting_for_the_database_keeps_no_lock(
    sqlite_url: str,
) -> None:
    """Cancelled while its BEGIN waits on a worker thread: the BEGIN still goes through
    when the other writer lets go, and the lane must undo it rather than keep the
    database locked."""
    store = SqlStore.from_url(sqlite_url)
    other = sqlite3.connect(_path(sqlite_url), isolation_level=None)
    probe = sqlite3.connect(_path(sqlite_url), isolation_level=None, timeout=0)
    try:
        other.execute("BEGIN IMMEDIATE")
        async with anyio.create_task_group() as tg:
            tg.start_soon(_write, store, 1)
            await anyio.sleep(0.2)  # the unit waits for `other` on a worker thread
            tg.cancel_scope.cancel()
            other.execute("COMMIT")
        probe.execute("BEGIN IMMEDIATE")  # nobody holds the database now
        probe.execute("ROLLBACK")
        await _write(store, 2)
        assert [c.urn.id for c in await store.cases.find(LAN)] == ["c-2"]
    finally:
        other.close()
        probe.close()
        await store.close()


async def test_a_unit_handed_the_lane_but_cancelled_before_joining_leaves_no_one_waiting(
    sqlite_url: str,
) -> None:
    """A unit ends while another waits for the lane, so it hands the lane on and waits for
    that one to commit the shared transaction; the waiter is cancelled before it joins
    (a worker stopping). The first unit must not wait forever: its work commits."""
    store = SqlStore.from_url(sqlite_url)
    try:
        with anyio.fail_after(10):
            async with anyio.create_task_group() as outer:
                outer.start_soon(_write, store, 1)  # enters the lane first
                async with anyio.create_task_group() as doomed:
                    doomed.start_soon(_write, store, 2)  # queues behind unit 1
                    await anyio.lowlevel.checkpoint()
                    await anyio.lowlevel.checkpoint()
                    doomed.cancel_scope.cancel()  # while unit 1 hands the lane to it
        assert [c.urn.id for c in await store.cases.find(LAN)] == ["c-1"]
        await _write(store, 3)  # the lane works afterwards
        assert sorted(c.urn.id for c in await store.cases.find(LAN)) == ["c-1", "c-3"]
    finally:
        await store.close()


async def test_a_database_locked_past_the_timeout_is_a_retryable_typed_error(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sql_store, "SQLITE_BUSY_TIMEOUT_MS", 200)
    store = SqlStore.from_url(sqlite_url)
    other = sqlite3.connect(_path(sqlite_url), isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        with pytest.raises(StoreUnavailableError, match="locked") as info:
            await _write(store, 1)
        assert info.value.retryable
        assert info.value.context["driver_error"] == "OperationalError"
        other.execute("ROLLBACK")
        await _write(store, 2)  # the lane recovers once the database is free
        assert [c.urn.id for c in await store.cases.find(LAN)] == ["c-2"]
    finally:
        other.close()
        await store.close()


async def test_a_missing_schema_is_a_configuration_error(tmp_path: Path) -> None:
    store = SqlStore.from_url(f"sqlite:///{tmp_path / 'empty.db'}", migrate=False)
    try:
        with pytest.raises(ConfigurationError, match="nexa db upgrade"):
            await store.cases.find(LAN)
        with pytest.raises(ConfigurationError, match="nexa db upgrade"):
            await store.cases.add(LAN, sample("cases"))
    finally:
        await store.close()
