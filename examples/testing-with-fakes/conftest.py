"""Fixtures for the example suite: fakes for every port the hotel desk touches."""

from __future__ import annotations

import pytest

from nexa_adapters.memory import MemoryStore
from nexa_core.runtime import FixedClock, SequentialIds


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def clock() -> FixedClock:
    """Time stands still until a test moves it."""
    return FixedClock()


@pytest.fixture
def ids() -> SequentialIds:
    """Predictable URNs: urn:audit:a-000001, urn:review:rv-000001, …"""
    return SequentialIds()


@pytest.fixture
def store(clock: FixedClock) -> MemoryStore:
    """A fresh in-memory operational store per test (same contract as the SQL stores)."""
    return MemoryStore(clock=clock.now)
