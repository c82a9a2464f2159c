"""Built-in ``redis`` plugin: ``redis://`` coordination and passenger snapshots."""

from __future__ import annotations

from typing import Any

from nexa_adapters.hookspecs import hookimpl


def _is_redis(url: str) -> bool:
    return url.startswith(("redis://", "rediss://"))


@hookimpl
def nexa_coordination_from_url(url: str, options: dict[str, Any]) -> Any:
    """``redis://host:port/db?prefix=nexa`` → coordination shared by every worker."""
    if not _is_redis(url):
        return None
    from nexa_adapters.redis.coordination import RedisCoordination

    return RedisCoordination.from_url(url)


@hookimpl
def nexa_snapshot_store_from_url(url: str, options: dict[str, Any]) -> Any:
    """``redis://host:port/db?prefix=nexa-snapshots`` → the passenger read side."""
    if not _is_redis(url):
        return None
    from nexa_adapters.redis.snapshots import RedisSnapshotStore

    return RedisSnapshotStore.from_url(url)
