"""Redis adapters (``redis://``): coordination shared by every worker, passenger snapshots."""

from nexa_adapters.redis.coordination import (
    RateDecision,
    RedisBreakers,
    RedisCoordination,
    RedisHolds,
    RedisLocks,
    RedisRateLimiter,
)
from nexa_adapters.redis.snapshots import RedisSnapshotStore
from nexa_adapters.redis.urls import parse_redis_url

__all__ = [
    "RateDecision",
    "RedisBreakers",
    "RedisCoordination",
    "RedisHolds",
    "RedisLocks",
    "RedisRateLimiter",
    "RedisSnapshotStore",
    "parse_redis_url",
]
