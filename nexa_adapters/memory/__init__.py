"""In-memory adapters: faithful fakes of the store ports."""

from nexa_adapters.memory.snapshots import MemorySnapshotStore
from nexa_adapters.memory.store import INDEXES, MemoryStore

__all__ = ["INDEXES", "MemorySnapshotStore", "MemoryStore"]
