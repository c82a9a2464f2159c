"""Default clock and id generators, plus deterministic ones for tests."""

from __future__ import annotations

import itertools
import threading
import uuid
from datetime import UTC, datetime, timedelta

from nexa_core.pii import find_card_numbers
from nexa_core.urn import ENTITY_TYPES, Urn

__all__ = ["FixedClock", "SequentialIds", "SystemClock", "UuidIds"]

#: Short id prefixes per entity (``urn:case:c-…``), matching the seed's examples.
_PREFIX = {
    "case": "c",
    "sub-case": "sc",
    "offer": "of",
    "reservation": "r",
    "hold-attempt": "h",
    "issued-card": "ic",
    "transfer": "t",
    "user": "u",
    "compensation-dead-letter": "cdl",
    "event": "e",
    "review": "rv",
    "policy": "pol",
    "demand": "DMD",
    "wave": "w",
    "contract": "ct",
    "audit": "a",
    "notification": "n",
    "agent-run": "ar",
}


class SystemClock:
    """The real time, in UTC."""

    def now(self) -> datetime:
        """Current UTC time."""
        return datetime.now(UTC)


class FixedClock:
    """A clock that moves only when told to (tests, simulations)."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 5, 5, 12, 0, tzinfo=UTC)

    def now(self) -> datetime:
        """The frozen time."""
        return self._now

    def advance(self, delta: timedelta) -> None:
        """Move time forward."""
        self._now += delta


def _prefix(entity: str) -> str:
    if entity not in ENTITY_TYPES:
        # let Urn raise the typed error for unknown entities
        return "x"
    return _PREFIX.get(entity, entity[:2])


class UuidIds:
    """Random ids (``urn:case:c-<uuid4 hex>``): unique across processes.

    A hex id whose digit runs happen to form a Luhn-valid 13–19 digit number would be
    rejected by the card-number guard of every store; such ids are drawn again.
    """

    def new(self, entity: str) -> Urn:
        """A fresh URN of ``entity``."""
        while True:
            value = f"{_prefix(entity)}-{uuid.uuid4().hex}"
            if not find_card_numbers(value):
                return Urn.of(entity, value)


class SequentialIds:
    """Deterministic ids (``urn:case:c-000001``) for tests and seeded demos."""

    def __init__(self, start: int = 1) -> None:
        self._counter = itertools.count(start)
        self._lock = threading.Lock()

    def new(self, entity: str) -> Urn:
        """The next URN of ``entity``."""
        with self._lock:
            n = next(self._counter)
        return Urn.of(entity, f"{_prefix(entity)}-{n:06d}")
