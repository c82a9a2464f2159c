"""The shipped OperationalStore contract on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.engine import Engine

from nexa_adapters.sql import SqlStore
from nexa_core.runtime import FixedClock
from nexa_core.testing.contracts import OperationalStoreContract


class TestSqliteStore(OperationalStoreContract):
    @pytest.fixture
    async def store(self, clock: FixedClock, sqlite_url: str) -> AsyncIterator[SqlStore]:
        store = SqlStore.from_url(sqlite_url, clock=clock, migrate=False)
        yield store
        await store.close()


@pytest.mark.postgres
class TestPostgresStore(OperationalStoreContract):
    @pytest.fixture
    async def store(self, clock: FixedClock, pg_engine: Engine) -> AsyncIterator[SqlStore]:
        store = SqlStore(pg_engine, clock=clock)
        yield store
        await store.close()
