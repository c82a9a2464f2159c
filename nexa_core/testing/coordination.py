"""An in-process fake of the :class:`~nexa_core.ports.Coordination` port for tests.

Holds count rooms per offer (inventory − live holds − confirmed), locks are re-entrant
per owner with increasing fencing tokens, the rate limiter is a token bucket on a
monotonic clock, and breakers open after ``failure_threshold`` consecutive failures.
The production in-process and Redis adapters pass the same behaviours.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import anyio
import attrs

from nexa_core.errors import (
    CapacityError,
    LockHeldError,
    NotFoundError,
    RateLimitedError,
    StaleFencingTokenError,
)
from nexa_core.model import Hold
from nexa_core.ports import LockGrant
from nexa_core.tenancy import TenantContext
from nexa_core.urn import Urn

__all__ = ["FakeBreakers", "FakeCoordination", "FakeHolds", "FakeLocks", "FakeRateLimiter"]


def _now() -> datetime:
    return datetime.now(UTC)


@attrs.define
class _Offer:
    rooms: int
    holds: dict[str, Hold] = attrs.field(factory=dict)
    confirmed: dict[str, int] = attrs.field(factory=dict)


class FakeHolds:
    """Soft-holds per (tenant, offer)."""

    def __init__(self) -> None:
        self.offers: dict[tuple[str, str], _Offer] = {}

    def _get(self, tenant: TenantContext, offer_urn: Urn) -> _Offer:
        try:
            return self.offers[(str(tenant.airline_urn), str(offer_urn))]
        except KeyError:
            raise NotFoundError(f"{offer_urn} has no inventory", urn=str(offer_urn)) from None

    def _live(self, offer: _Offer) -> int:
        now = _now()
        return sum(h.rooms for h in offer.holds.values() if h.expires_at > now)

    async def set_inventory(
        self, tenant: TenantContext, offer_urn: Urn, rooms: int, *, ttl: timedelta
    ) -> None:
        key = (str(tenant.airline_urn), str(offer_urn))
        if key in self.offers:
            self.offers[key].rooms = rooms
        else:
            self.offers[key] = _Offer(rooms)

    async def acquire(
        self,
        tenant: TenantContext,
        offer_urn: Urn,
        attempt_urn: Urn,
        rooms: int,
        *,
        ttl: timedelta,
        owner: str = "",
    ) -> Hold:
        offer = self._get(tenant, offer_urn)
        existing = offer.holds.get(str(attempt_urn))
        if existing is not None and existing.expires_at > _now():
            return existing
        if str(attempt_urn) in offer.confirmed:
            return Hold(
                attempt_urn, offer_urn, offer.confirmed[str(attempt_urn)], _now() + ttl, owner
            )
        left = offer.rooms - self._live(offer) - sum(offer.confirmed.values())
        if rooms > left:
            raise CapacityError(
                f"{offer_urn}: {rooms} rooms wanted, {left} left", urn=str(offer_urn)
            )
        hold = Hold(attempt_urn, offer_urn, rooms, _now() + ttl, owner)
        offer.holds[str(attempt_urn)] = hold
        return hold

    async def confirm(self, tenant: TenantContext, offer_urn: Urn, attempt_urn: Urn) -> None:
        offer = self._get(tenant, offer_urn)
        hold = offer.holds.pop(str(attempt_urn), None)
        if hold is not None:
            offer.confirmed[str(attempt_urn)] = hold.rooms
        elif str(attempt_urn) not in offer.confirmed:
            raise NotFoundError(f"no hold {attempt_urn}", urn=str(attempt_urn))

    async def release(self, tenant: TenantContext, offer_urn: Urn, attempt_urn: Urn) -> None:
        offer = self._get(tenant, offer_urn)
        offer.holds.pop(str(attempt_urn), None)
        offer.confirmed.pop(str(attempt_urn), None)

    async def available(self, tenant: TenantContext, offer_urn: Urn) -> int:
        offer = self._get(tenant, offer_urn)
        return offer.rooms - self._live(offer) - sum(offer.confirmed.values())

    def live_holds(self) -> int:
        """Rooms held (not confirmed) across every offer — leak checks in tests."""
        return sum(self._live(o) for o in self.offers.values())


class FakeLocks:
    """Entity locks with fencing tokens."""

    def __init__(self) -> None:
        self.grants: dict[tuple[str, str], LockGrant] = {}
        self.tokens: dict[tuple[str, str], int] = {}

    async def acquire(
        self, tenant: TenantContext, entity_urn: Urn, owner: str, *, ttl: timedelta
    ) -> LockGrant:
        key = (str(tenant.airline_urn), str(entity_urn))
        current = self.grants.get(key)
        if current is not None and current.expires_at > _now() and current.owner != owner:
            raise LockHeldError(f"{entity_urn} is locked by {current.owner}", urn=str(entity_urn))
        token = self.tokens.get(key, 0) + 1
        self.tokens[key] = token
        grant = LockGrant(entity_urn, owner, token, _now() + ttl)
        self.grants[key] = grant
        return grant

    async def heartbeat(
        self, tenant: TenantContext, grant: LockGrant, *, ttl: timedelta
    ) -> LockGrant:
        key = (str(tenant.airline_urn), str(grant.entity_urn))
        current = self.grants.get(key)
        if current is None or current.token != grant.token:
            raise StaleFencingTokenError(
                f"{grant.entity_urn}: lock lost", urn=str(grant.entity_urn)
            )
        renewed = attrs.evolve(grant, expires_at=_now() + ttl)
        self.grants[key] = renewed
        return renewed

    async def release(self, tenant: TenantContext, grant: LockGrant) -> None:
        key = (str(tenant.airline_urn), str(grant.entity_urn))
        current = self.grants.get(key)
        if current is not None and current.token == grant.token:
            del self.grants[key]

    async def holder(self, tenant: TenantContext, entity_urn: Urn) -> LockGrant | None:
        current = self.grants.get((str(tenant.airline_urn), str(entity_urn)))
        return current if current is not None and current.expires_at > _now() else None

    async def check_token(self, tenant: TenantContext, entity_urn: Urn, token: int) -> None:
        if token < self.tokens.get((str(tenant.airline_urn), str(entity_urn)), 0):
            raise StaleFencingTokenError(f"{entity_urn}: stale token {token}", urn=str(entity_urn))


class FakeRateLimiter:
    """Token buckets on the monotonic clock; ``acquired`` counts tokens per key."""

    def __init__(self) -> None:
        self.buckets: dict[str, tuple[float, float]] = {}
        self.acquired: dict[str, int] = {}

    async def try_acquire(self, key: str, *, rate: float, burst: int | None = None) -> bool:
        cap = float(burst if burst is not None else max(1, int(rate)))
        now = time.monotonic()
        tokens, at = self.buckets.get(key, (cap, now))
        tokens = min(cap, tokens + (now - at) * rate)
        if tokens < 1:
            self.buckets[key] = (tokens, now)
            return False
        self.buckets[key] = (tokens - 1, now)
        self.acquired[key] = self.acquired.get(key, 0) + 1
        return True

    async def acquire(
        self, key: str, *, rate: float, burst: int | None = None, deadline: float
    ) -> None:
        end = time.monotonic() + deadline
        while not await self.try_acquire(key, rate=rate, burst=burst):
            if time.monotonic() >= end:
                raise RateLimitedError(f"{key}: rate limit", retry_after=1.0 / rate, key=key)
            await anyio.sleep(min(0.05, 1.0 / rate))


class FakeBreakers:
    """Opens after ``failure_threshold`` consecutive failures; ``trip``/``reset`` for tests."""

    def __init__(self, failure_threshold: int = 5, cooldown_s: float = 30.0) -> None:
        self.failure_threshold = failure_threshold
        self.cooldown_s = cooldown_s
        self.failures: dict[str, int] = {}
        self.opened_at: dict[str, float] = {}

    async def allow(self, key: str) -> bool:
        opened = self.opened_at.get(key)
        return opened is None or time.monotonic() - opened >= self.cooldown_s

    async def record(self, key: str, *, success: bool) -> None:
        if success:
            self.failures.pop(key, None)
            self.opened_at.pop(key, None)
            return
        self.failures[key] = self.failures.get(key, 0) + 1
        if self.failures[key] >= self.failure_threshold:
            self.opened_at[key] = time.monotonic()

    async def state(self, key: str) -> str:
        opened = self.opened_at.get(key)
        if opened is None:
            return "closed"
        return "open" if time.monotonic() - opened < self.cooldown_s else "half-open"

    def trip(self, key: str) -> None:
        """Open the breaker of ``key`` now."""
        self.opened_at[key] = time.monotonic()


class FakeCoordination:
    """Holds, locks, rate limits and breakers of one process."""

    def __init__(self) -> None:
        self.holds = FakeHolds()
        self.locks = FakeLocks()
        self.rate_limits = FakeRateLimiter()
        self.breakers = FakeBreakers()

    async def close(self) -> None:
        return None
