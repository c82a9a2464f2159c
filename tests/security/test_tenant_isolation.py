"""Two tenants, random operations against the in-memory adapters: nothing crosses.

The machine itself ships in :mod:`nexa_core.testing.isolation` so every store adapter can
run it (subclass with its own ``make_store``).
"""

from __future__ import annotations

from typing import Any

from nexa_adapters.memory import MemorySnapshotStore, MemoryStore
from nexa_core.runtime import FixedClock
from nexa_core.testing.isolation import ISOLATION_SETTINGS, TenantIsolationMachine


class MemoryIsolation(TenantIsolationMachine):
    async def make_store(self, clock: FixedClock) -> Any:
        return MemoryStore(clock=clock.now)

    async def make_snapshots(self) -> Any:
        return MemorySnapshotStore()


MemoryIsolation.TestCase.settings = ISOLATION_SETTINGS
test_two_tenants_never_cross_in_memory = MemoryIsolation.TestCase
