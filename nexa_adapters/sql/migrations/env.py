"""Alembic environment for Nexa's operational schema (run programmatically)."""

from __future__ import annotations

from alembic import context

from nexa_adapters.sql.migrate import VERSION_TABLE
from nexa_adapters.sql.schema import METADATA

config = context.config
engine = config.attributes.get("engine")
if engine is None:  # pragma: no cover - only reachable from the alembic CLI
    from nexa_adapters.sql.store import create_sql_engine

    engine = create_sql_engine(config.get_main_option("sqlalchemy.url") or "")

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=METADATA,
        version_table=VERSION_TABLE,
        transaction_per_migration=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
