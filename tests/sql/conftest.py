"""Fixtures for the SQL store: a migrated SQLite file and a per-session PostgreSQL database."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from nexa_adapters.sql import create_sql_engine
from nexa_adapters.sql.migrate import upgrade

#: every table the operational schema owns (emptied between PostgreSQL tests)
TABLES = (
    "nexa_cases, nexa_sub_cases, nexa_policies, nexa_demands, nexa_waves, nexa_reservations, "
    "nexa_contracts, nexa_cards, nexa_transfers, nexa_notifications, nexa_reviews, "
    "nexa_dead_letters, nexa_card_accounts, nexa_idempotency, nexa_outbox_positions"
)


@pytest.fixture(scope="session")
def pg_database_url(postgres_url: str) -> Iterator[str]:
    """A uniquely named PostgreSQL database, migrated to head, dropped after the session."""
    name = f"nexa_t4_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = sa.engine.make_url(postgres_url).set(database=name).render_as_string(False)
    engine = create_sql_engine(url)
    upgrade(engine)
    engine.dispose()
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture(scope="session")
def _pg_session_engine(pg_database_url: str) -> Iterator[Engine]:
    engine = create_sql_engine(pg_database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def pg_engine(_pg_session_engine: Engine) -> Engine:
    """An engine on the session database, emptied before the test.

    Audit and outbox are insert-only (triggers refuse DELETE), so this test-only cleanup
    runs with ``session_replication_role = replica``, which skips ordinary triggers.
    """
    with _pg_session_engine.begin() as conn:
        conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
        for table in (*TABLES.split(", "), "nexa_audit", "nexa_outbox"):
            conn.exec_driver_sql(f"DELETE FROM {table}")
    return _pg_session_engine


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A fresh SQLite file, migrated to head."""
    url = f"sqlite:///{tmp_path / 'nexa.db'}"
    engine = create_sql_engine(url)
    upgrade(engine)
    engine.dispose()
    return url
