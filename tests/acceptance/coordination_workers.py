"""Worker processes for the Redis acceptance tests (spawned, so importable by reference)."""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from datetime import timedelta
from typing import Any

from nexa_adapters.redis import RedisCoordination
from nexa_core.errors import CapacityError, NotFoundError, RateLimitedError
from nexa_core.tenancy import TenantContext
from nexa_core.urn import Urn

LAN = TenantContext.system("urn:airline:LAN")
OFFER_TTL = timedelta(minutes=5)


def offer_urn(n: int) -> Urn:
    return Urn("offer", f"of-{n}")


def intents_key(prefix: str) -> str:
    """Attempts a worker is about to confirm (logged first, so a crash cannot hide one)."""
    return f"{prefix}:test:confirm-intents"


def contention_worker(
    url: str, prefix: str, offers: int, counts: Any, slot: int, target: int, seed: int
) -> None:
    """4 coroutines racing for holds until the shared count of acquisitions reaches target."""
    asyncio.run(_contend(url, prefix, offers, counts, slot, target, seed))


async def _contend(
    url: str, prefix: str, offers: int, counts: Any, slot: int, target: int, seed: int
) -> None:
    coordination = RedisCoordination.from_url(f"{url}?prefix={prefix}")
    holds = coordination.holds
    client = coordination.client
    rng = random.Random(seed)

    async def racer() -> None:
        n = 0
        while True:
            if n % 25 == 0 and sum(counts) >= target:
                return
            n += 1
            counts[slot] += 1  # single writer per slot: no lock a crash could leave held
            offer = offer_urn(rng.randrange(offers))
            attempt = Urn("hold-attempt", f"h-{uuid.uuid4().hex}")
            ttl = timedelta(milliseconds=rng.randint(50, 400))
            try:
                await holds.acquire(LAN, offer, attempt, rng.choice((1, 1, 2)), ttl=ttl)
            except CapacityError:
                continue
            roll = rng.random()
            if roll < 0.45:
                await holds.release(LAN, offer, attempt)
            elif roll < 0.50:
                await client.lpush(intents_key(prefix), f"{offer}|{attempt}")
                try:
                    await holds.confirm(LAN, offer, attempt)
                except NotFoundError:
                    continue  # the hold lapsed first: nothing was confirmed
                if rng.random() < 0.9:  # most bookings are cancelled again later
                    await asyncio.sleep(rng.random() * 0.05)
                    await holds.release(LAN, offer, attempt)
            # else: abandoned, expires by itself

    await asyncio.gather(*(racer() for _ in range(4)))
    await coordination.close()


def rate_worker(
    url: str, prefix: str, key: str, start_at: Any, go: Any, seconds: float, ready: Any, out: Any
) -> None:
    """Hammer one bucket of 20/s for ``seconds`` once ``go`` is set.

    Reports (server time of each grant, time the partner call would go out on this host).
    """
    out.put(asyncio.run(_hammer(url, prefix, key, start_at, go, seconds, ready)))


async def _hammer(
    url: str, prefix: str, key: str, start_at: Any, go: Any, seconds: float, ready: Any
) -> list[tuple[float, float]]:
    coordination = RedisCoordination.from_url(f"{url}?prefix={prefix}")
    limiter = coordination.rate_limits
    await coordination.client.ping()
    ready.put(True)
    await asyncio.to_thread(go.wait)
    start = start_at.value
    await asyncio.sleep(max(0.0, start - time.time()))
    stop = start + seconds
    calls: list[tuple[float, float]] = []

    async def caller() -> None:
        while time.time() < stop:
            try:
                decision = await limiter.wait(key, rate=20, deadline=2.0)
            except RateLimitedError:
                continue
            calls.append((decision.at, time.time()))  # the partner call would go out now

    await asyncio.gather(*(caller() for _ in range(2)))
    await coordination.close()
    return calls
