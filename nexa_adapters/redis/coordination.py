"""Coordination on Redis: holds, fenced locks, cluster-wide rate limits and breakers.

Every operation is one Lua script (see :mod:`nexa_adapters.redis.scripts`), so it is
atomic across every worker process sharing the server, and all times come from the
server clock. Keys are prefixed by the store's ``prefix`` and the tenant URN.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio
import attrs
import redis.asyncio as aioredis

from nexa_adapters.inprocess.coordination import bucket_shape, check_hold_args, check_lock_args
from nexa_adapters.redis import scripts
from nexa_core.errors import (
    CapacityError,
    InvalidInputError,
    LockHeldError,
    NotFoundError,
    RateLimitedError,
    StaleFencingTokenError,
)
from nexa_core.model import Hold
from nexa_core.ports import BreakerSettings, LockEvent, LockGrant
from nexa_core.tenancy import TenantContext
from nexa_core.urn import Urn, without_status

__all__ = [
    "RateDecision",
    "RedisBreakers",
    "RedisCoordination",
    "RedisHolds",
    "RedisLocks",
    "RedisRateLimiter",
]


def _utc(ms: str | int | float) -> datetime:
    return datetime.fromtimestamp(int(float(ms)) / 1000, tz=UTC)


def _ms(ttl: timedelta) -> int:
    return max(1, round(ttl.total_seconds() * 1000))


class RedisHolds:
    """Soft-holds: one script per acquisition, hold expiries in a sorted set per offer."""

    def __init__(self, client: aioredis.Redis, prefix: str) -> None:
        self._prefix = prefix
        self._set = client.register_script(scripts.HOLD_SET_INVENTORY)
        self._acquire = client.register_script(scripts.HOLD_ACQUIRE)
        self._confirm = client.register_script(scripts.HOLD_CONFIRM)
        self._release = client.register_script(scripts.HOLD_RELEASE)
        self._available = client.register_script(scripts.HOLD_AVAILABLE)

    def keys(self, tenant: TenantContext, offer_urn: Urn) -> list[str]:
        """The offer's keys: inventory, hold expiries, held rooms, confirmations."""
        tag = f"{self._prefix}:hold:{{{tenant.airline_urn}|{without_status(offer_urn)}}}"
        return [f"{tag}:inv", f"{tag}:held", f"{tag}:rooms", f"{tag}:conf"]

    async def set_inventory(
        self, tenant: TenantContext, offer_urn: Urn, rooms: int, *, ttl: timedelta
    ) -> None:
        check_hold_args(offer_urn, None, rooms, ttl)
        await self._set(keys=self.keys(tenant, offer_urn), args=[rooms, _ms(ttl)])

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
        attempt = str(without_status(attempt_urn))
        res = await self._acquire(
            keys=self.keys(tenant, offer_urn), args=[attempt, rooms, _ms(ttl), owner]
        )
        kind = res[0]
        if kind == "ok":
            return Hold(attempt_urn, offer_urn, rooms, _utc(res[1]), owner)
        if kind == "missing":
            raise NotFoundError(f"{offer_urn} has no declared inventory", urn=str(offer_urn))
        if kind == "full":
            left = max(int(res[1]), 0)
            raise CapacityError(
                f"{offer_urn}: {rooms} rooms requested, {left} available",
                urn=str(offer_urn),
                available=left,
            )
        if kind == "held":
            held_rooms, held_owner = res[1].split("|", 1)
            expires = res[2]
        else:  # confirmed
            held_rooms, expires, held_owner = res[1].split("|", 2)
        if int(held_rooms) != rooms:
            raise InvalidInputError(
                f"{attempt_urn} already holds {held_rooms} rooms, not {rooms}", field="rooms"
            )
        return Hold(attempt_urn, offer_urn, rooms, _utc(expires), held_owner)

    async def confirm(self, tenant: TenantContext, offer_urn: Urn, attempt_urn: Urn) -> None:
        check_hold_args(offer_urn, attempt_urn, 0, timedelta(seconds=1))
        res = await self._confirm(
            keys=self.keys(tenant, offer_urn), args=[str(without_status(attempt_urn))]
        )
        if res != "ok":
            raise NotFoundError(
                f"{attempt_urn} holds nothing on {offer_urn} (expired or released)",
                urn=str(attempt_urn),
            )

    async def release(self, tenant: TenantContext, offer_urn: Urn, attempt_urn: Urn) -> None:
        check_hold_args(offer_urn, attempt_urn, 0, timedelta(seconds=1))
        await self._release(
            keys=self.keys(tenant, offer_urn), args=[str(without_status(attempt_urn))]
        )

    async def available(self, tenant: TenantContext, offer_urn: Urn) -> int:
        check_hold_args(offer_urn, None, 0, timedelta(seconds=1))
        res = await self._available(keys=self.keys(tenant, offer_urn))
        if res[0] == "missing":
            raise NotFoundError(f"{offer_urn} has no declared inventory", urn=str(offer_urn))
        return int(res[1])


class RedisLocks:
    """Entity locks: a hash with PX TTL, an INCR fencing counter, PUBLISH on change."""

    def __init__(self, client: aioredis.Redis, prefix: str) -> None:
        self._client = client
        self._prefix = prefix
        self._acquire = client.register_script(scripts.LOCK_ACQUIRE)
        self._heartbeat = client.register_script(scripts.LOCK_HEARTBEAT)
        self._release = client.register_script(scripts.LOCK_RELEASE)

    def _keys(self, tenant: TenantContext, entity_urn: Urn) -> list[str]:
        tag = f"{{{tenant.airline_urn}|{without_status(entity_urn)}}}"
        return [f"{self._prefix}:lock:{tag}", f"{self._prefix}:fence:{tag}"]

    def channel(self, tenant: TenantContext) -> str:
        """The pub/sub channel carrying the tenant's lock events (JSON)."""
        return f"{self._prefix}:locks:{tenant.airline_urn}"

    async def acquire(
        self, tenant: TenantContext, entity_urn: Urn, owner: str, *, ttl: timedelta
    ) -> LockGrant:
        check_lock_args(owner, ttl)
        entity = without_status(entity_urn)
        res = await self._acquire(
            keys=self._keys(tenant, entity),
            args=[owner, _ms(ttl), self.channel(tenant), str(entity)],
        )
        if res[0] == "held":
            since = _utc(res[4]).isoformat()
            raise LockHeldError(
                f"{entity_urn} is locked by {res[1]} since {since}",
                urn=str(entity_urn),
                owner=res[1],
                since=since,
                expires_at=_utc(res[3]).isoformat(),
            )
        return LockGrant(entity, owner, int(res[1]), _utc(res[2]), _utc(res[3]))

    async def heartbeat(
        self, tenant: TenantContext, grant: LockGrant, *, ttl: timedelta
    ) -> LockGrant:
        check_lock_args(grant.owner, ttl)
        entity = without_status(grant.entity_urn)
        res = await self._heartbeat(
            keys=self._keys(tenant, entity),
            args=[
                grant.owner,
                _ms(ttl),
                self.channel(tenant),
                str(entity),
                grant.token,
                round(grant.acquired_at.timestamp() * 1000) if grant.acquired_at else 0,
            ],
        )
        if res[0] != "ok":
            raise StaleFencingTokenError(
                f"the lock on {grant.entity_urn} was lost (token {grant.token})",
                urn=str(grant.entity_urn),
                token=grant.token,
            )
        return attrs.evolve(grant, expires_at=_utc(res[1]), acquired_at=_utc(res[2]))

    async def release(self, tenant: TenantContext, grant: LockGrant) -> None:
        entity = without_status(grant.entity_urn)
        await self._release(
            keys=self._keys(tenant, entity)[:1],
            args=[grant.owner, 0, self.channel(tenant), str(entity), grant.token],
        )

    async def holder(self, tenant: TenantContext, entity_urn: Urn) -> LockGrant | None:
        entity = without_status(entity_urn)
        owner, token, exp, since = await self._client.hmget(
            self._keys(tenant, entity)[0], ["owner", "token", "exp", "since"]
        )
        if owner is None or token is None or exp is None:
            return None
        return LockGrant(
            entity, str(owner), int(token), _utc(str(exp)), _utc(str(since)) if since else None
        )

    async def check_token(self, tenant: TenantContext, entity_urn: Urn, token: int) -> None:
        latest = int(await self._client.get(self._keys(tenant, entity_urn)[1]) or 0)
        if token != latest:
            raise StaleFencingTokenError(
                f"token {token} for {entity_urn} is stale (latest {latest})",
                urn=str(entity_urn),
                token=token,
                latest=latest,
            )

    @asynccontextmanager
    async def subscribe(self, tenant: TenantContext) -> AsyncIterator[AsyncIterator[LockEvent]]:
        pubsub = self._client.pubsub()
        try:
            await pubsub.subscribe(self.channel(tenant))
            # wait for the server's confirmation: events published from now on arrive
            with anyio.fail_after(10):
                while True:
                    msg = await pubsub.get_message(timeout=1.0)
                    if msg is not None and msg["type"] == "subscribe":
                        break
            yield self._events(pubsub)
        finally:
            await pubsub.unsubscribe()
            await pubsub.aclose()  # type: ignore[no-untyped-call]

    @staticmethod
    async def _events(pubsub: Any) -> AsyncIterator[LockEvent]:
        while True:
            msg = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
            if msg is None or msg["type"] != "message":
                continue
            data = json.loads(msg["data"])
            yield LockEvent(
                kind=data["kind"],
                entity_urn=Urn.parse(data["entity"]),
                owner=data["owner"],
                token=int(data["token"]),
                expires_at=_utc(data["exp"]) if data["exp"] else None,
                at=_utc(data["at"]),
            )


@attrs.frozen
class RateDecision:
    """The outcome of one bucket request.

    ``granted``: a slot was reserved at ``at`` (server epoch seconds, µs precision),
    ``retry_after`` seconds from the decision (0 when the slot is now). Refused: the
    earliest slot would have been ``at``, ``retry_after`` seconds away.
    """

    granted: bool
    retry_after: float
    at: float


class RedisRateLimiter:
    """Sliding-log limiter shared by every worker: ≤ ``burst`` grants per ``burst/rate`` s.

    The log holds the last ``burst`` grants (Redis clock, µs, newest first). A request is
    granted when the ``burst``-th newest grant has left the window, so no window of that
    length ever holds more than ``burst`` grants, whichever worker asked. :meth:`acquire`
    sleeps exactly until the next grant frees up and asks again, up to its deadline.
    :meth:`take` with ``max_wait`` instead reserves the earliest future slot (one round
    trip, first come first served); the caller must sleep ``retry_after`` before calling.
    """

    def __init__(self, client: aioredis.Redis, prefix: str) -> None:
        self._prefix = prefix
        self._take = client.register_script(scripts.RATE_TAKE)

    async def take(
        self, key: str, *, rate: float, burst: int | None = None, max_wait: float = 0.0
    ) -> RateDecision:
        """Reserve the earliest slot if it is at most ``max_wait`` seconds away (no sleep)."""
        if not isinstance(key, str) or not key:
            raise InvalidInputError("a rate-limit key is required", field="key")
        limit, window = bucket_shape(rate, burst)
        if not isinstance(max_wait, int | float) or not 0 <= max_wait < 86_400:
            raise InvalidInputError("max_wait must be between 0 and a day", field="max_wait")
        res = await self._take(
            keys=[f"{self._prefix}:rate:{{{key}}}"],
            args=[limit, round(window * 1_000_000), round(max_wait * 1_000_000)],
        )
        return RateDecision(bool(int(res[0])), int(res[1]) / 1_000_000, int(res[2]) / 1_000_000)

    async def try_acquire(self, key: str, *, rate: float, burst: int | None = None) -> bool:
        return (await self.take(key, rate=rate, burst=burst)).granted

    async def wait(
        self, key: str, *, rate: float, burst: int | None = None, deadline: float
    ) -> RateDecision:
        """:meth:`acquire`, returning the grant (``at`` = the server time it was made)."""
        if not isinstance(deadline, int | float) or deadline < 0:
            raise InvalidInputError("deadline must be >= 0 seconds", field="deadline")
        give_up = time.monotonic() + deadline
        while True:
            decision = await self.take(key, rate=rate, burst=burst)
            if decision.granted:
                return decision
            if decision.retry_after > give_up - time.monotonic():
                raise RateLimitedError(
                    f"rate limit {key} exhausted for {deadline}s",
                    retry_after=decision.retry_after,
                    key=key,
                )
            await anyio.sleep(decision.retry_after)

    async def acquire(
        self, key: str, *, rate: float, burst: int | None = None, deadline: float
    ) -> None:
        await self.wait(key, rate=rate, burst=burst, deadline=deadline)


class RedisBreakers:
    """Circuit breakers in a hash per key; state changes are single scripts."""

    def __init__(
        self, client: aioredis.Redis, prefix: str, settings: BreakerSettings | None = None
    ) -> None:
        self._client = client
        self._prefix = prefix
        self._settings = settings or BreakerSettings()
        self._allow = client.register_script(scripts.BREAKER_ALLOW)
        self._record = client.register_script(scripts.BREAKER_RECORD)

    def _key(self, key: str) -> str:
        if not isinstance(key, str) or not key:
            raise InvalidInputError("a breaker key is required", field="key")
        return f"{self._prefix}:breaker:{{{key}}}"

    @property
    def _cooldown_ms(self) -> int:
        return _ms(self._settings.cooldown)

    async def allow(self, key: str) -> bool:
        return bool(await self._allow(keys=[self._key(key)], args=[self._cooldown_ms]))

    async def record(self, key: str, *, success: bool) -> None:
        keep = max(self._cooldown_ms * 10, 3_600_000)
        await self._record(
            keys=[self._key(key)],
            args=[1 if success else 0, self._settings.failure_threshold, keep],
        )

    async def state(self, key: str) -> str:
        state, opened = await self._client.hmget(self._key(key), ["state", "opened"])
        if state is None:
            return "closed"
        if state == "open":
            now_s, now_us = await self._client.time()
            if int(now_s) * 1000 + int(now_us) // 1000 >= int(str(opened)) + self._cooldown_ms:
                return "half-open"
        return str(state)


class RedisCoordination:
    """The :class:`~nexa_core.ports.Coordination` shared by every worker (``redis://``)."""

    def __init__(
        self,
        client: aioredis.Redis,
        *,
        prefix: str = "nexa",
        breaker_settings: BreakerSettings | None = None,
    ) -> None:
        self.client = client
        self.prefix = prefix
        self._holds = RedisHolds(client, prefix)
        self._locks = RedisLocks(client, prefix)
        self._rate_limits = RedisRateLimiter(client, prefix)
        self._breakers = RedisBreakers(client, prefix, breaker_settings)

    @classmethod
    def from_url(
        cls, url: str, *, breaker_settings: BreakerSettings | None = None
    ) -> RedisCoordination:
        """Build from ``redis://host:port/db?prefix=nexa`` (no connection until first use)."""
        from nexa_adapters.redis.urls import parse_redis_url

        client_url, prefix, extra = parse_redis_url(url)
        if breaker_settings is None and extra:
            breaker_settings = BreakerSettings(
                failure_threshold=int(extra.get("breaker_threshold", 5)),
                cooldown=timedelta(seconds=float(extra.get("breaker_cooldown", 30))),
            )
        client = aioredis.Redis.from_url(client_url, decode_responses=True)
        return cls(client, prefix=prefix, breaker_settings=breaker_settings)

    @property
    def holds(self) -> RedisHolds:
        return self._holds

    @property
    def locks(self) -> RedisLocks:
        return self._locks

    @property
    def rate_limits(self) -> RedisRateLimiter:
        return self._rate_limits

    @property
    def breakers(self) -> RedisBreakers:
        return self._breakers

    async def close(self) -> None:
        """Close the connection pool."""
        await self.client.aclose()
