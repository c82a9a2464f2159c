"""Prove the integrator's store wrapper still honours the whole OperationalStore contract.

Subclassing Nexa's shipped contract suite runs every store test (versions, tenant
isolation, append-only audit, idempotency, outbox, all-or-nothing transactions) against
the wrapper. Only the ``store`` fixture is ours.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from hotel_desk import CountingStore

from nexa_adapters.memory import MemoryStore
from nexa_core.runtime import FixedClock
from nexa_core.testing.contracts import OperationalStoreContract


class TestCountingStore(OperationalStoreContract):
    @pytest.fixture
    async def store(self, clock: FixedClock) -> AsyncIterator[CountingStore]:
        wrapped = CountingStore(MemoryStore(clock=clock.now))
        yield wrapped
        await wrapped.close()
