"""In-process coordination: holds, locks, rate limits and breakers for one process.

The embedded default (``inprocess://``). Behaviour matches the Redis adapter (both pass
:class:`nexa_core.testing.coordination.CoordinationContract`); state lives in dicts, so
it is only "cluster-wide" for a single process. Holds, locks and breakers follow the
injected :class:`~nexa_core.ports.Clock` (a ``FixedClock`` makes TTLs deterministic in
tests); rate limits use the monotonic clock because callers really wait for them.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta

import anyio
import attrs
from anyio.streams.memory import MemoryObjectSendStream

from nexa_core.errors import (
    CapacityError,
    InvalidInputError,
    LockHeldError,
    NotFoundError,
    RateLimitedError,
    StaleFencingTokenError,
)
from nexa_core.model import Hold
from nexa_core.ports import BreakerSettings, Clock, LockEvent, LockGrant
from nexa_core.runtime import SystemClock
from nexa_core.tenancy import TenantContext
from nexa_core.urn import Urn, without_status

__all__ = [
    "InProcessBreakers",
    "InProcessCoordination",
    "InProcessHolds",
    "InProcessLocks",
    "InProcessRateLimiter",
    "bucket_shape",
    "check_hold_args",
    "check_lock_args",
]


# --------------------------------------------------------------------------- shared checks


def bucket_shape(rate: float, burst: int | None) -> tuple[int, float]:
    """``(limit, window_seconds)``: at most ``limit`` grants in any ``window`` seconds."""
    if not isinstance(rate, int | float) or not math.isfinite(rate) or rate <= 0:
        raise InvalidInputError(f"rate must be a positive number, got {rate!r}", field="rate")
    limit = max(1, math.ceil(rate)) if burst is None else burst
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
        raise InvalidInputError(f"burst must be a positive integer, got {burst!r}", field="burst")
    return limit, limit / rate


def check_hold_args(offer_urn: Urn, attempt_urn: Urn | None, rooms: int, ttl: timedelta) -> None:
    """Reject bad hold arguments before anything changes."""
    if not isinstance(offer_urn, Urn):
        raise InvalidInputError("offer_urn must be a Urn", field="offer_urn")
    if attempt_urn is not None and not (
        isinstance(attempt_urn, Urn) and attempt_urn.is_a("hold-attempt")
    ):
        raise InvalidInputError(f"{attempt_urn} is not a urn:hold-attempt", field="attempt_urn")
    if not isinstance(rooms, int) or isinstance(rooms, bool) or rooms < 0:
        raise InvalidInputError(
            f"rooms must be a non-negative integer, got {rooms!r}", field="rooms"
        )
    if not isinstance(ttl, timedelta) or ttl <= timedelta(0):
        raise InvalidInputError(f"ttl must be a positive timedelta, got {ttl!r}", field="ttl")


def check_lock_args(owner: str, ttl: timedelta) -> None:
    """Reject an empty owner or a non-positive TTL."""
    if not isinstance(owner, str) or not owner:
        raise InvalidInputError("a lock owner (session id) is required", field="owner")
    if not isinstance(ttl, timedelta) or ttl <= timedelta(0):
        raise InvalidInputError(f"ttl must be a positive timedelta, got {ttl!r}", field="ttl")


# --------------------------------------------------------------------------- holds


@attrs.define
class _HoldEntry:
    rooms: int
    expires_at: datetime
    owner: str


@attrs.define
class _Offer:
    inventory: int
    expires_at: datetime
    held: dict[str, _HoldEntry] = attrs.field(factory=dict)
    confirmed: dict[str, _HoldEntry] = attrs.field(factory=dict)

    def purge(self, now: datetime) -> None:
        for attempt in [a for a, h in self.held.items() if h.expires_at <= now]:
            del self.held[attempt]

    def available(self) -> int:
        used = sum(h.rooms for h in self.held.values()) + sum(
            c.rooms for c in self.confirmed.values()
        )
        return self.inventory - used


class InProcessHolds:
    """Soft-holds in a dict per (tenant, offer): available is recomputed on every call."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._offers: dict[tuple[str, str], _Offer] = {}

    @staticmethod
    def _key(tenant: TenantContext, offer_urn: Urn) -> tuple[str, str]:
        return str(tenant.airline_urn), str(without_status(offer_urn))

    def _live(self, tenant: TenantContext, offer_urn: Urn) -> _Offer | None:
        key = self._key(tenant, offer_urn)
        offer = self._offers.get(key)
        now = self._clock.now()
        if offer is None:
            return None
        if offer.expires_at <= now:
            del self._offers[key]
            return None
        offer.purge(now)
        return offer

    async def set_inventory(
        self, tenant: TenantContext, offer_urn: Urn, rooms: int, *, ttl: timedelta
    ) -> None:
        check_hold_args(offer_urn, None, rooms, ttl)
        offer = self._live(tenant, offer_urn)
        expires = self._clock.now() + ttl
        if offer is None:
            self._offers[self._key(tenant, offer_urn)] = _Offer(rooms, expires)
        else:
            offer.inventory = rooms
            offer.expires_at = expires

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
        check_hold_args(offer_urn, attempt_urn, rooms, ttl)
        if rooms < 1:
            raise InvalidInputError("a hold needs at least one room", field="rooms")
        offer = self._live(tenant, offer_urn)
        if offer is None:
            raise NotFoundError(f"{offer_urn} has no declared inventory", urn=str(offer_urn))
        attempt = str(without_status(attempt_urn))
        existing = offer.held.get(attempt) or offer.confirmed.get(attempt)
        if existing is not None:
            if existing.rooms != rooms:
                raise InvalidInputError(
                    f"{attempt_urn} already holds {existing.rooms} rooms, not {rooms}",
                    field="rooms",
                )
            return Hold(attempt_urn, offer_urn, existing.rooms, existing.expires_at, existing.owner)
        left = offer.available()
        if left < rooms:
            raise CapacityError(
                f"{offer_urn}: {rooms} rooms requested, {max(left, 0)} available",
                urn=str(offer_urn),
                available=max(left, 0),
            )
        entry = _HoldEntry(rooms, self._clock.now() + ttl, owner)
        offer.held[attempt] = entry
        return Hold(attempt_urn, offer_urn, rooms, entry.expires_at, owner)

    async def confirm(self, tenant: TenantContext, offer_urn: Urn, attempt_urn: Urn) -> None:
        check_hold_args(offer_urn, attempt_urn, 0, timedelta(seconds=1))
        offer = self._live(tenant, offer_urn)
        attempt = str(without_status(attempt_urn))
        if offer is not None and attempt in offer.confirmed:
            return
        if offer is None or attempt not in offer.held:
            raise NotFoundError(
                f"{attempt_urn} holds nothing on {offer_urn} (expired or released)",
                urn=str(attempt_urn),
            )
        offer.confirmed[attempt] = offer.held.pop(attempt)

    async def release(self, tenant: TenantContext, offer_urn: Urn, attempt_urn: Urn) -> None:
        check_hold_args(offer_urn, attempt_urn, 0, timedelta(seconds=1))
        offer = self._live(tenant, offer_urn)
        if offer is None:
            return
        attempt = str(without_status(attempt_urn))
        offer.held.pop(attempt, None)
        offer.confirmed.pop(attempt, None)

    async def available(self, tenant: TenantContext, offer_urn: Urn) -> int:
        check_hold_args(offer_urn, None, 0, timedelta(seconds=1))
        offer = self._live(tenant, offer_urn)
        if offer is None:
            raise NotFoundError(f"{offer_urn} has no declared inventory", urn=str(offer_urn))
        return offer.available()


# --------------------------------------------------------------------------- locks


@attrs.define
class _Lock:
    owner: str
    token: int
    expires_at: datetime
    since: datetime


class InProcessLocks:
    """Entity locks with fencing tokens; events fan out to in-process subscribers."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._locks: dict[tuple[str, str], _Lock] = {}
        self._fence: dict[tuple[str, str], int] = {}
        self._subscribers: dict[str, set[MemoryObjectSendStream[LockEvent]]] = {}

    @staticmethod
    def _key(tenant: TenantContext, entity_urn: Urn) -> tuple[str, str]:
        return str(tenant.airline_urn), str(without_status(entity_urn))

    def _current(self, key: tuple[str, str]) -> _Lock | None:
        lock = self._locks.get(key)
        if lock is not None and lock.expires_at <= self._clock.now():
            del self._locks[key]
            return None
        return lock

    def _publish(self, tenant: TenantContext, event: LockEvent) -> None:
        for stream in list(self._subscribers.get(str(tenant.airline_urn), ())):
            try:
                stream.send_nowait(event)
            except (anyio.WouldBlock, anyio.BrokenResourceError, anyio.ClosedResourceError):
                # a slow or gone subscriber misses events rather than blocking lock holders
                continue

    def _event(self, kind: str, entity_urn: Urn, lock: _Lock) -> LockEvent:
        expires = None if kind == "released" else lock.expires_at
        return LockEvent(kind, entity_urn, lock.owner, lock.token, expires, self._clock.now())

    async def acquire(
        self, tenant: TenantContext, entity_urn: Urn, owner: str, *, ttl: timedelta
    ) -> LockGrant:
        check_lock_args(owner, ttl)
        key = self._key(tenant, entity_urn)
        lock = self._current(key)
        if lock is not None and lock.owner != owner:
            raise LockHeldError(
                f"{entity_urn} is locked by {lock.owner} since {lock.since.isoformat()}",
                urn=str(entity_urn),
                owner=lock.owner,
                since=lock.since.isoformat(),
                expires_at=lock.expires_at.isoformat(),
            )
        now = self._clock.now()
        since = lock.since if lock is not None else now  # re-entrant: still held since then
        token = self._fence.get(key, 0) + 1
        self._fence[key] = token
        lock = _Lock(owner, token, now + ttl, since)
        self._locks[key] = lock
        self._publish(tenant, self._event("acquired", entity_urn, lock))
        return LockGrant(entity_urn, owner, token, lock.expires_at, since)

    async def heartbeat(
        self, tenant: TenantContext, grant: LockGrant, *, ttl: timedelta
    ) -> LockGrant:
        check_lock_args(grant.owner, ttl)
        key = self._key(tenant, grant.entity_urn)
        lock = self._current(key)
        if lock is None and self._fence.get(key, 0) == grant.token:
            # lapsed but nobody took it since: the session is alive again
            lock = _Lock(
                grant.owner, grant.token, self._clock.now(), grant.acquired_at or self._clock.now()
            )
            self._locks[key] = lock
        if lock is None or lock.token != grant.token:
            raise StaleFencingTokenError(
                f"the lock on {grant.entity_urn} was lost (token {grant.token})",
                urn=str(grant.entity_urn),
                token=grant.token,
            )
        lock.expires_at = self._clock.now() + ttl
        self._publish(tenant, self._event("renewed", grant.entity_urn, lock))
        return attrs.evolve(grant, expires_at=lock.expires_at, acquired_at=lock.since)

    async def release(self, tenant: TenantContext, grant: LockGrant) -> None:
        key = self._key(tenant, grant.entity_urn)
        lock = self._current(key)
        if lock is None or lock.token != grant.token:
            return
        del self._locks[key]
        self._publish(tenant, self._event("released", grant.entity_urn, lock))

    async def holder(self, tenant: TenantContext, entity_urn: Urn) -> LockGrant | None:
        lock = self._current(self._key(tenant, entity_urn))
        if lock is None:
            return None
        return LockGrant(
            without_status(entity_urn), lock.owner, lock.token, lock.expires_at, lock.since
        )

    async def check_token(self, tenant: TenantContext, entity_urn: Urn, token: int) -> None:
        latest = self._fence.get(self._key(tenant, entity_urn), 0)
        if token != latest:
            raise StaleFencingTokenError(
                f"token {token} for {entity_urn} is stale (latest {latest})",
                urn=str(entity_urn),
                token=token,
                latest=latest,
            )

    @asynccontextmanager
    async def subscribe(self, tenant: TenantContext) -> AsyncIterator[AsyncIterator[LockEvent]]:
        send, receive = anyio.create_memory_object_stream[LockEvent](1000)
        subscribers = self._subscribers.setdefault(str(tenant.airline_urn), set())
        subscribers.add(send)
        try:
            async with receive:
                yield receive
        finally:
            subscribers.discard(send)
            send.close()


# --------------------------------------------------------------------------- rate limits


class InProcessRateLimiter:
    """Sliding log of grant times (monotonic clock): ≤ ``burst`` grants per window.

    Same rule as on Redis: a token is granted when the ``burst``-th newest grant has left
    the window; :meth:`acquire` sleeps exactly until then (or gives up at its deadline).
    """

    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._now = monotonic
        self._logs: dict[str, deque[float]] = {}

    def _take(self, key: str, limit: int, window: float) -> float:
        """0.0 when a token was taken, else seconds until one frees up."""
        if not isinstance(key, str) or not key:
            raise InvalidInputError("a rate-limit key is required", field="key")
        now = self._now()
        log = self._logs.setdefault(key, deque())
        while len(log) > limit:  # the shape changed for this key
            log.popleft()
        if len(log) == limit:
            if log[0] + window > now:
                return max(log[0] + window - now, 1e-6)
            log.popleft()
        log.append(now)
        return 0.0

    async def try_acquire(self, key: str, *, rate: float, burst: int | None = None) -> bool:
        limit, window = bucket_shape(rate, burst)
        return self._take(key, limit, window) == 0.0

    async def acquire(
        self, key: str, *, rate: float, burst: int | None = None, deadline: float
    ) -> None:
        limit, window = bucket_shape(rate, burst)
        if not isinstance(deadline, int | float) or deadline < 0:
            raise InvalidInputError("deadline must be >= 0 seconds", field="deadline")
        give_up = self._now() + deadline
        while True:
            wait = self._take(key, limit, window)
            if wait == 0.0:
                return
            if wait > give_up - self._now():
                raise RateLimitedError(
                    f"rate limit {key} exhausted for {deadline}s", retry_after=wait, key=key
                )
            await anyio.sleep(wait)


# --------------------------------------------------------------------------- breakers


@attrs.define
class _Breaker:
    state: str = "closed"
    failures: int = 0
    opened_at: datetime | None = None


class InProcessBreakers:
    """Consecutive-failure circuit breakers with a single half-open probe."""

    def __init__(self, clock: Clock, settings: BreakerSettings | None = None) -> None:
        self._clock = clock
        self._settings = settings or BreakerSettings()
        self._breakers: dict[str, _Breaker] = {}

    def _get(self, key: str) -> _Breaker:
        if not isinstance(key, str) or not key:
            raise InvalidInputError("a breaker key is required", field="key")
        return self._breakers.setdefault(key, _Breaker())

    def _cooled(self, b: _Breaker) -> bool:
        assert b.opened_at is not None
        return self._clock.now() >= b.opened_at + self._settings.cooldown

    async def allow(self, key: str) -> bool:
        b = self._get(key)
        if b.state == "closed":
            return True
        if not self._cooled(b):
            return False
        # cooled down: exactly one probe per cool-down period
        b.state = "half-open"
        b.opened_at = self._clock.now()
        return True

    async def record(self, key: str, *, success: bool) -> None:
        b = self._get(key)
        if success:
            b.state, b.failures, b.opened_at = "closed", 0, None
            return
        b.failures += 1
        if b.state == "half-open" or b.failures >= self._settings.failure_threshold:
            b.state, b.opened_at = "open", self._clock.now()

    async def state(self, key: str) -> str:
        b = self._get(key)
        if b.state == "open" and self._cooled(b):
            return "half-open"
        return b.state


# --------------------------------------------------------------------------- facade


class InProcessCoordination:
    """The :class:`~nexa_core.ports.Coordination` of a single process (``inprocess://``)."""

    def __init__(
        self,
        *,
        clock: Clock | None = None,
        breaker_settings: BreakerSettings | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        clock = clock or SystemClock()
        self._holds = InProcessHolds(clock)
        self._locks = InProcessLocks(clock)
        self._rate_limits = InProcessRateLimiter(monotonic)
        self._breakers = InProcessBreakers(clock, breaker_settings)

    @property
    def holds(self) -> InProcessHolds:
        return self._holds

    @property
    def locks(self) -> InProcessLocks:
        return self._locks

    @property
    def rate_limits(self) -> InProcessRateLimiter:
        return self._rate_limits

    @property
    def breakers(self) -> InProcessBreakers:
        return self._breakers

    async def close(self) -> None:
        """Nothing to release."""
