"""The worker's relay on SQLite and PostgreSQL: stopped (at any point) and restarted, every
consumer catches up — no event lost, none applied twice by a deduplicating consumer."""

from __future__ import annotations

import functools
import random
from typing import Any

import anyio
import anyio.lowlevel
import pytest
from sqlalchemy.engine import Engine

from nexa_adapters.bootstrap import bootstrap
from nexa_adapters.engine import build_orchestrator
from nexa_adapters.outbox import outbox_consumers
from nexa_adapters.settings import Settings
from nexa_core.ports import OutboxRecord
from nexa_core.relay import RelayRunner, outbox_status
from tests.service.flow import OPERATOR, _manifest, _policy


class Dedup:
    """Applies each event once (by its URN); counts every delivery."""

    name = "dedup"

    def __init__(self) -> None:
        self.applied: dict[str, int] = {}
        self.deliveries: dict[str, int] = {}

    async def handle(self, record: OutboxRecord) -> None:
        key = str(record.event.urn)
        self.deliveries[key] = self.deliveries.get(key, 0) + 1
        await anyio.lowlevel.checkpoint()  # a stop can land before the position is saved
        self.applied.setdefault(key, record.position)


def _nexa(url: str) -> Any:
    settings = Settings.load(
        env={}, store_url=url, coordination_url="inprocess://", engine_url="inprocess://"
    )
    return bootstrap(settings, provider_options={"engine_time_scale": 0.0})


async def _open_cases(orch: Any, first: int, count: int) -> None:
    for n in range(first, first + count):
        await orch.open_case(_manifest(f"EV-{n}", groups=3), principal=OPERATOR)


async def _until(check: Any, pause: float = 0.01) -> None:
    with anyio.fail_after(10):
        while not await check():  # noqa: ASYNC110 - polls the store
            await anyio.sleep(pause)


async def _stop_and_restart(url: str) -> None:
    nexa = _nexa(url)
    orch, _ = build_orchestrator(nexa, policy=_policy())
    await nexa.engine.launch()
    dedup = Dedup()
    rounds = 4
    try:
        for r in range(rounds):
            runner = RelayRunner(  # a fresh worker each round (positions come from the store)
                nexa.store.outbox, [dedup, *outbox_consumers(nexa)], locks=None, batch=4
            )
            stop = anyio.Event()
            async with anyio.create_task_group() as tg:
                tg.start_soon(functools.partial(runner.run, idle_s=0.01, stop=stop))
                await _open_cases(orch, r * 10, 5)  # events committed while it relays
                await anyio.sleep(random.random() * 0.05)
                tg.cancel_scope.cancel()  # stopped at an arbitrary point (like a kill)
            await _open_cases(orch, r * 10 + 5, 3)  # and while it is stopped
        names = ["dedup", "snapshots", "metrics"]
        stopped = {s.consumer: s.position for s in await outbox_status(nexa.store.outbox, names)}
        final = RelayRunner(nexa.store.outbox, [dedup, *outbox_consumers(nexa)], batch=4)
        expected = rounds * 8 * 5  # 8 cases a round; 5 events per 3-group case
        with anyio.fail_after(60):  # PostgreSQL shows commits once they pass its horizon
            while True:
                await final.run_once()
                records = await nexa.store.outbox.read_after(0, limit=100_000)
                if len(records) == expected and await final.caught_up():
                    break
                await anyio.sleep(0.01)
        # the last stop left work behind: the restarted relay delivered it
        assert all(p < records[-1].position for p in stopped.values()), stopped
        assert dedup.applied == {str(r.event.urn): r.position for r in records}  # none lost
        # a stop between handling a record and saving its position hands that one record
        # over again (deduplicated above); nothing else is ever delivered twice
        assert sum(n - 1 for n in dedup.deliveries.values()) <= rounds
        done = await outbox_status(nexa.store.outbox, names)
        assert {s.consumer: s.lag for s in done} == {"dedup": 0, "snapshots": 0, "metrics": 0}
        assert {s.position for s in done} == {records[-1].position}
    finally:
        await nexa.aclose()


@pytest.mark.anyio
async def test_relay_stopped_and_restarted_catches_up_on_sqlite(sqlite_url: str) -> None:
    await _stop_and_restart(sqlite_url)


@pytest.mark.anyio
@pytest.mark.postgres
async def test_relay_stopped_and_restarted_catches_up_on_postgresql(
    pg_engine: Engine, pg_database_url: str
) -> None:
    await _stop_and_restart(pg_database_url)


@pytest.mark.anyio
async def test_one_worker_at_a_time_relays_to_a_consumer_and_another_takes_over(
    sqlite_url: str,
) -> None:
    from datetime import timedelta

    from nexa_adapters.inprocess import InProcessCoordination

    nexa = _nexa(sqlite_url)
    orch, _ = build_orchestrator(nexa, policy=_policy())
    await nexa.engine.launch()
    locks = InProcessCoordination().locks  # shared by both "workers"
    try:
        await _open_cases(orch, 0, 2)
        seen: dict[str, list[str]] = {"a": [], "b": []}

        def consumer(worker: str) -> Any:
            class Recorder:
                name = "dedup"

                async def handle(self, record: OutboxRecord) -> None:
                    seen[worker].append(str(record.event.urn))

            return Recorder()

        ttl = timedelta(milliseconds=300)
        a = RelayRunner(nexa.store.outbox, [consumer("a")], locks=locks, owner="a", lease_ttl=ttl)
        b = RelayRunner(nexa.store.outbox, [consumer("b")], locks=locks, owner="b", lease_ttl=ttl)
        stop_a, stop_b, a_stopped = anyio.Event(), anyio.Event(), anyio.Event()

        async def run_a() -> None:
            await a.run(idle_s=0.01, stop=stop_a)
            a_stopped.set()

        async with anyio.create_task_group() as tg:
            tg.start_soon(run_a)
            await _until(a.caught_up)
            tg.start_soon(lambda: b.run(idle_s=0.01, stop=stop_b))
            await _open_cases(orch, 2, 1)
            await _until(a.caught_up)
            assert seen["b"] == []  # a holds the lease: b stands by
            stop_a.set()  # worker a stops; b takes the consumer over
            with anyio.fail_after(10):
                await a_stopped.wait()
            await _open_cases(orch, 3, 1)

            async def b_took_over() -> bool:
                return bool(seen["b"]) and await b.caught_up()

            await _until(b_took_over)
            stop_b.set()
        records = await nexa.store.outbox.read_after(0, limit=10_000)
        assert sorted(seen["a"] + seen["b"]) == sorted(str(r.event.urn) for r in records)
    finally:
        await nexa.aclose()
