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


@hookimpl
def nexa_snapshot_store_from_url(url: str, options: dict[str, Any]) -> Any:
    """``sqlite:``/``postgresql…`` → passenger documents on SQL; ``auto`` (the default) →
    next to the operational store (:func:`~nexa_adapters.sql.snapshots.snapshot_url_for`)."""
    from nexa_adapters.sql.snapshots import SqlSnapshotStore, snapshot_url_for

    if url == "auto":
        settings = options.get("settings")
        store_url = getattr(settings, "store_url", "memory://")
        url = snapshot_url_for(store_url)
        if url.startswith("memory:"):
            from nexa_adapters.memory.snapshots import MemorySnapshotStore

            return MemorySnapshotStore()
    if not url.startswith(("sqlite:", "postgresql")):
        return None
    return SqlSnapshotStore.from_url(url)
