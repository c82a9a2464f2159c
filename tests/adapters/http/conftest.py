"""Shared helpers for the HTTP adapter tests."""

from __future__ import annotations

import random
from typing import Any

import pytest

from nexa_adapters.http import RetryPolicy
from nexa_adapters.secrets import EnvSecrets
from nexa_core.runtime import FixedClock
from tests.adapters.http.fakes import FakeBreakers, FakeRateLimiter


async def no_sleep(_: float) -> None:
    return None


def adapter_options(env: dict[str, str], **extra: Any) -> dict[str, Any]:
    """Keyword arguments every adapter takes in tests (no real sleeping)."""
    opts: dict[str, Any] = {
        "secrets": EnvSecrets(env),
        "rate_limiter": FakeRateLimiter(),
        "breakers": FakeBreakers(threshold=10),
        "clock": FixedClock(),
        "policy": RetryPolicy(attempts=3, base_delay=0.01),
        "sleep": no_sleep,
        "rng": random.Random(3),
    }
    opts.update(extra)
    return opts


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
