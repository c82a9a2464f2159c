"""The ``sql`` plugin builds stores from URLs; the outbox relay delivers in order and resumes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from sqlalchemy.engine import Engine

from nexa_adapters.bootstrap import bootstrap
from nexa_adapters.memory import MemoryStore
from nexa_adapters.plugins import get_plugin_manager, plugin_infos
from nexa_adapters.settings import Settings
from nexa_adapters.sql import SqlStore
from nexa_adapters.sql.migrate import current, head
from nexa_core.model import DomainEvent
from nexa_core.ports import OperationalStore, OutboxRecord
from nexa_core.relay import OutboxRelay
from nexa_core.runtime import FixedClock
from nexa_core.tenancy import TenantContext
from nexa_core.testing.samples import sample
from nexa_core.urn import Urn

LAN = TenantContext.system("urn:airline:LAN")


def _event(n: int) -> DomainEvent:
    return DomainEvent(
        Urn("event", f"e-{n}"),
        LAN.airline_urn,
        "case.created",
        Urn("case", "c-1"),
        FixedClock().now(),
        key=f"k-{n}",
    )


def test_the_sql_plugin_is_registered_under_the_nexa_group() -> None:
    infos = {p.name: p for p in plugin_infos(get_plugin_manager())}
    assert "nexa_store_from_url" in infos["sql"].hooks


@pytest.mark.anyio
async def test_bootstrap_on_a_sqlite_url_migrates_and_uses_the_injected_clock(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'boot.db'}"
    clock = FixedClock()
    nexa = bootstrap(Settings.load("/nonexistent", env={}, store_url=url), clock=clock)
    try:
        assert isinstance(nexa.store, SqlStore) and isinstance(nexa.store, OperationalStore)
        assert current(nexa.store.engine) == head()
        rec = await nexa.store.idempotency.remember(LAN, "s", "k", {"a": 1})
        assert rec.created_at == clock.now()
    finally:
        await nexa.aclose()


def test_the_sql_plugin_ignores_other_schemes() -> None:
    pm = get_plugin_manager(allow=["sql"])
    assert pm.hook.nexa_store_from_url(url="memory://", options={}) is None


@pytest.mark.postgres
def test_the_sql_plugin_does_not_migrate_postgres_unless_asked(
    pg_engine: Engine, pg_database_url: str
) -> None:
    pm = get_plugin_manager(allow=["sql"])
    store = pm.hook.nexa_store_from_url(url=pg_database_url, options={})
    assert isinstance(store, SqlStore)
    assert current(store.engine) == head()  # the session database was migrated by the fixture
    anyio.run(store.close)


@pytest.fixture(params=["memory", "sqlite"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Any]:
    made = (
        MemoryStore()
        if request.param == "memory"
        else SqlStore.from_url(f"sqlite:///{tmp_path / 'relay.db'}")
    )
    yield made
    await made.close()


@pytest.mark.anyio
async def test_relay_hands_records_in_order_and_resumes_from_the_saved_position(
    store: OperationalStore,
) -> None:
    got: list[int] = []

    async def handler(record: OutboxRecord) -> None:
        got.append(int(record.event.key[2:]))

    for n in range(1, 6):
        await store.outbox.append(LAN, _event(n))
    relay = OutboxRelay(store.outbox, "engine", handler, batch=2)
    assert await relay.run_once() == 5
    assert got == [1, 2, 3, 4, 5]
    async with store.transaction() as tx:
        await tx.cases.add(LAN, sample("cases"))
        await tx.outbox.append(LAN, _event(6))
    restarted = OutboxRelay(store.outbox, "engine", handler)
    assert await restarted.run_once() == 1
    assert got == [1, 2, 3, 4, 5, 6]
    assert await restarted.run_once() == 0


@pytest.mark.anyio
async def test_a_failing_handler_stops_the_relay_and_the_record_is_retried(
    store: OperationalStore,
) -> None:
    seen: list[str] = []
    fail_once = {"k-2"}

    async def handler(record: OutboxRecord) -> None:
        if record.event.key in fail_once:
            fail_once.clear()
            raise RuntimeError("engine down")
        seen.append(record.event.key)

    for n in range(1, 4):
        await store.outbox.append(LAN, _event(n))
    relay = OutboxRelay(store.outbox, "engine", handler)
    with pytest.raises(RuntimeError):
        await relay.run_once()
    assert seen == ["k-1"]
    assert await relay.run_once() == 2
    assert seen == ["k-1", "k-2", "k-3"]


@pytest.mark.anyio
async def test_relay_run_stops_when_asked(store: OperationalStore) -> None:
    seen: list[str] = []
    stop = anyio.Event()

    async def handler(record: OutboxRecord) -> None:
        seen.append(record.event.key)
        stop.set()

    await store.outbox.append(LAN, _event(1))
    relay = OutboxRelay(store.outbox, "engine", handler)
    with anyio.fail_after(10):
        await relay.run(idle_s=0.01, stop=stop)
    assert seen == ["k-1"]
