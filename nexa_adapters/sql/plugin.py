"""Built-in ``sql`` plugin: ``sqlite:`` and ``postgresql…`` operational stores."""

from __future__ import annotations

from typing import Any

from nexa_adapters.hookspecs import hookimpl
from nexa_adapters.sql.store import SqlStore


@hookimpl
def nexa_store_from_url(url: str, options: dict[str, Any]) -> SqlStore | None:
    """``sqlite:///path.db`` or ``postgresql+psycopg://…`` → a :class:`SqlStore`.

    SQLite databases are migrated to the newest schema on open; PostgreSQL is migrated
    with ``nexa db upgrade`` (set ``options["migrate"]`` to override either way).
    """
    if not url.startswith(("sqlite:", "postgresql")):
        return None
    return SqlStore.from_url(url, clock=options.get("clock"), migrate=options.get("migrate"))
