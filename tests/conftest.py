"""Shared fixtures: anyio backend and real-service URLs (PostgreSQL, Redis).

Service tests skip with a reason when the service is down, unless
``NEXA_REQUIRE_SERVICES=1`` (CI), where a missing service fails the run.
"""

from __future__ import annotations

import os
import socket
from urllib.parse import urlparse

import pytest

POSTGRES_URL = os.environ.get(
    "NEXA_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("NEXA_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def _reachable(url: str, default_port: int) -> bool:
    parsed = urlparse(url.replace("postgresql+psycopg", "postgresql"))
    try:
        with socket.create_connection(
            (parsed.hostname or "127.0.0.1", parsed.port or default_port), 1
        ):
            return True
    except OSError:
        return False


def _require(name: str, url: str, port: int) -> str:
    if _reachable(url, port):
        return url
    msg = f"{name} is not reachable at {url}"
    if os.environ.get("NEXA_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{msg} and NEXA_REQUIRE_SERVICES=1")
    pytest.skip(f"{msg} (set NEXA_REQUIRE_SERVICES=1 to make this an error)")


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """A PostgreSQL URL for real-database tests."""
    return _require("PostgreSQL", POSTGRES_URL, 5432)


@pytest.fixture(scope="session")
def redis_url() -> str:
    """A Redis URL for real-Redis tests."""
    return _require("Redis", REDIS_URL, 6379)
