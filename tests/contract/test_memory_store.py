from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from nexa_adapters.memory import MemorySnapshotStore, MemoryStore
from nexa_core.runtime import FixedClock
from nexa_core.testing.contracts import OperationalStoreContract, SnapshotStoreContract


class TestMemoryStore(OperationalStoreContract):
    @pytest.fixture
    async def store(self, clock: FixedClock) -> AsyncIterator[MemoryStore]:
        yield MemoryStore(clock=clock.now)


class TestMemorySnapshots(SnapshotStoreContract):
    @pytest.fixture
    def snapshots(self) -> MemorySnapshotStore:
        return MemorySnapshotStore()
