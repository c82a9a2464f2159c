"""SQL adapters: the operational store on SQLAlchemy (SQLite default, PostgreSQL).

Migrations: :mod:`nexa_adapters.sql.migrate` (imported on demand: Alembic is only loaded
when a schema is upgraded or inspected).
"""

from nexa_adapters.sql.store import SqlStore, create_sql_engine

__all__ = ["SqlStore", "create_sql_engine"]
