from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from nexa_adapters.plugins import get_plugin_manager
from nexa_adapters.redis import RedisCoordination, RedisSnapshotStore, parse_redis_url
from nexa_core.errors import ConfigurationError, InvalidInputError
from nexa_core.ports import BreakerSettings, Coordination
from nexa_core.tenancy import TenantContext
from nexa_core.testing.contracts import SnapshotStoreContract
from nexa_core.testing.coordination import CoordinationContract
from nexa_core.urn import Urn

pytestmark = pytest.mark.redis

LAN = TenantContext.system("urn:airline:LAN")


async def _drop(client: aioredis.Redis, prefix: str) -> None:
    keys = [k async for k in client.scan_iter(match=f"{prefix}:*", count=500)]
    if keys:
        await client.delete(*keys)


def _prefix() -> str:
    return f"nexa-test-{uuid.uuid4().hex[:12]}"


class TestRedisCoordination(CoordinationContract):
    @pytest.fixture
    async def coordination(
        self, redis_url: str, breaker_settings: BreakerSettings
    ) -> AsyncIterator[RedisCoordination]:
        prefix = _prefix()
        client = aioredis.Redis.from_url(redis_url, decode_responses=True)
        coordination = RedisCoordination(client, prefix=prefix, breaker_settings=breaker_settings)
        yield coordination
        await _drop(client, prefix)
        await coordination.close()


class TestRedisSnapshots(SnapshotStoreContract):
    @pytest.fixture
    async def snapshots(self, redis_url: str) -> AsyncIterator[RedisSnapshotStore]:
        prefix = _prefix()
        store = RedisSnapshotStore.from_url(f"{redis_url}?prefix={prefix}")
        yield store
        await _drop(store.client, prefix)
        await store.close()


@pytest.mark.anyio
async def test_snapshots_live_under_the_tenant_prefix_and_must_be_json(redis_url: str) -> None:
    prefix = _prefix()
    store = RedisSnapshotStore.from_url(f"{redis_url}?prefix={prefix}")
    try:
        urn = Urn("sub-case", "sc-1")
        await store.put(LAN, urn, {"hotel": "Hotel Uno", "qr": "NXA|sc-1"})
        assert await store.client.get(f"{prefix}:snap:urn:airline:LAN:urn:sub-case:sc-1")
        with pytest.raises(InvalidInputError):
            await store.put(LAN, urn, {"when": object()})
        assert dict(await store.get(LAN, urn)) == {"hotel": "Hotel Uno", "qr": "NXA|sc-1"}
    finally:
        await _drop(store.client, prefix)
        await store.close()


def test_the_redis_plugin_builds_coordination_and_snapshots_for_redis_urls() -> None:
    pm = get_plugin_manager()
    url = "redis://127.0.0.1:6379/0?prefix=acme&breaker_threshold=2&breaker_cooldown=5"
    coordination = pm.hook.nexa_coordination_from_url(url=url, options={})
    assert isinstance(coordination, RedisCoordination) and isinstance(coordination, Coordination)
    assert coordination.prefix == "acme"
    snapshots = pm.hook.nexa_snapshot_store_from_url(url="redis://127.0.0.1/1", options={})
    assert isinstance(snapshots, RedisSnapshotStore)
    assert snapshots.prefix == "nexa-snapshots"
    assert pm.hook.nexa_coordination_from_url(url="memory://", options={}) is None


def test_redis_urls_keep_nexa_options_out_of_the_client_url() -> None:
    url, prefix, extra = parse_redis_url("redis://h:1/2?prefix=p1&breaker_threshold=3&ssl=x")
    assert (url, prefix, extra) == ("redis://h:1/2?ssl=x", "p1", {"breaker_threshold": "3"})
    with pytest.raises(ConfigurationError):
        parse_redis_url("redis://h/0?prefix=bad prefix")
    with pytest.raises(ConfigurationError):
        parse_redis_url("redis://h/0?breaker_cooldown=soon")
    with pytest.raises(ConfigurationError):
        parse_redis_url("http://h/0")


@pytest.mark.anyio
async def test_take_with_max_wait_reserves_the_next_slot_on_the_server_clock(
    redis_url: str,
) -> None:
    prefix = _prefix()
    coordination = RedisCoordination.from_url(f"{redis_url}?prefix={prefix}")
    rl = coordination.rate_limits
    try:
        first = await rl.take("acme.search", rate=2, burst=1)
        assert first.granted and first.retry_after == 0
        reserved = await rl.take("acme.search", rate=2, burst=1, max_wait=1.0)
        assert reserved.granted
        assert reserved.at == pytest.approx(first.at + 0.5, abs=1e-5)
        assert 0 < reserved.retry_after <= 0.5
        refused = await rl.take("acme.search", rate=2, burst=1)
        assert not refused.granted
        assert refused.at == pytest.approx(reserved.at + 0.5, abs=1e-5)
        assert 0.5 < refused.retry_after <= 1.0
    finally:
        await _drop(coordination.client, prefix)
        await coordination.close()
