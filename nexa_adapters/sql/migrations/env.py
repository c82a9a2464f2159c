"""Alembic environment for Nexa's operational schema (run programmatically).

Upgrades run in one transaction that first takes the database's write lock (SQLite
``BEGIN IMMEDIATE``; a PostgreSQL advisory lock), so processes starting together migrate
one after the other instead of colliding.
"""

from __future__ import annotations

from alembic import context

from nexa_adapters.sql.migrate import VERSION_TABLE
from nexa_adapters.sql.schema import METADATA

MIGRATION_LOCK_KEY = int.from_bytes(b"nexa.mig", "big") & 0x7FFF_FFFF_FFFF_FFFF

config = context.config
engine = config.attributes.get("engine")
if engine is None:  # pragma: no cover - only reachable from the alembic CLI
    from nexa_adapters.sql.store import create_sql_engine

    engine = create_sql_engine(config.get_main_option("sqlalchemy.url") or "")

with engine.connect() as connection:
    connection.execution_options(nexa_write=True)  # SQLite: BEGIN IMMEDIATE
    context.configure(
        connection=connection,
        target_metadata=METADATA,
        version_table=VERSION_TABLE,
        transaction_per_migration=False,
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK_KEY})")
        context.run_migrations()
    connection.commit()
