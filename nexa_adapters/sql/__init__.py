"""SQL adapters: the operational store on SQLAlchemy (SQLite default, PostgreSQL)."""

from nexa_adapters.sql.migrate import current, head, upgrade
from nexa_adapters.sql.store import OUTBOX_LOCK_KEY, SqlStore, create_sql_engine

__all__ = [
    "OUTBOX_LOCK_KEY",
    "SqlStore",
    "create_sql_engine",
    "current",
    "head",
    "upgrade",
]
