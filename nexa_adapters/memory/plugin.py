"""Built-in ``memory`` plugin: ``memory://`` stores."""

from __future__ import annotations

from typing import Any

from nexa_adapters.hookspecs import hookimpl
from nexa_adapters.memory.snapshots import MemorySnapshotStore
from nexa_adapters.memory.store import MemoryStore


@hookimpl
def nexa_store_from_url(url: str, options: dict[str, Any]) -> MemoryStore | None:
    """``memory://`` → a fresh in-memory operational store."""
    if not url.startswith("memory:"):
        return None
    clock = options.get("clock")
    return MemoryStore(clock=clock.now if clock is not None else None)


@hookimpl
def nexa_snapshot_store_from_url(url: str, options: dict[str, Any]) -> MemorySnapshotStore | None:
    """``memory://`` → a fresh in-memory snapshot store."""
    return MemorySnapshotStore() if url.startswith("memory:") else None
