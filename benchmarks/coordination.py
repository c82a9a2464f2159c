"""Hold throughput on Redis next to raw GET/SET, measured in the same run.

Both loops use the same client (one connection pool) and the same number of concurrent
coroutines; a "pair" is two round trips in both cases (acquire + release, or SET + GET),
so the ratio compares like with like. Target: hold pairs/s >= 0.3 x GET/SET pairs/s.

    python benchmarks/coordination.py [--url redis://127.0.0.1:6379/0] [--pairs 20000]
        [--concurrency 32] [--offers 50]
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid
from datetime import timedelta

from nexa_adapters.redis import RedisCoordination
from nexa_core.tenancy import TenantContext
from nexa_core.urn import Urn

LAN = TenantContext.system("urn:airline:LAN")


async def _run(url: str, pairs: int, concurrency: int, offers: int) -> None:
    prefix = f"nexa-bench-{uuid.uuid4().hex[:8]}"
    coordination = RedisCoordination.from_url(f"{url}?prefix={prefix}")
    client, holds = coordination.client, coordination.holds
    per_task = pairs // concurrency
    total = per_task * concurrency
    try:
        offer_urns = [Urn("offer", f"of-{n}") for n in range(offers)]
        for offer in offer_urns:
            await holds.set_inventory(LAN, offer, 1_000_000, ttl=timedelta(minutes=10))
        attempts = [Urn("hold-attempt", f"h-{n}") for n in range(total)]

        async def raw(task: int) -> None:
            key = f"{prefix}:raw:{task}"
            for _ in range(per_task):
                await client.set(key, "x")
                await client.get(key)

        async def hold(task: int) -> None:
            for i in range(per_task):
                offer = offer_urns[(task + i) % offers]
                attempt = attempts[task * per_task + i]
                await holds.acquire(LAN, offer, attempt, 1, ttl=timedelta(seconds=30))
                await holds.release(LAN, offer, attempt)

        async def timed(worker: object) -> float:
            start = time.perf_counter()
            await asyncio.gather(*(worker(t) for t in range(concurrency)))  # type: ignore[operator]
            return total / (time.perf_counter() - start)

        await timed(raw)  # warm up connections
        raw_rate = await timed(raw)
        hold_rate = await timed(hold)
        raw_again = await timed(raw)  # the machine is shared: bracket the hold run
        raw_rate = (raw_rate + raw_again) / 2
        print(f"redis            {url}  concurrency={concurrency}  pairs={total}")
        print(f"raw SET+GET      {raw_rate:10.0f} pairs/s  ({2 * raw_rate:10.0f} ops/s)")
        print(f"hold acq+release {hold_rate:10.0f} pairs/s  ({2 * hold_rate:10.0f} ops/s)")
        print(f"ratio            {hold_rate / raw_rate:10.2f}  (target >= 0.30)")
    finally:
        keys = [k async for k in client.scan_iter(match=f"{prefix}:*", count=1000)]
        if keys:
            await client.delete(*keys)
        await coordination.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--pairs", type=int, default=20_000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--offers", type=int, default=50)
    args = parser.parse_args()
    asyncio.run(_run(args.url, args.pairs, args.concurrency, args.offers))


if __name__ == "__main__":
    main()
