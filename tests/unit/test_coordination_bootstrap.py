from __future__ import annotations

from nexa_adapters.bootstrap import bootstrap
from nexa_adapters.inprocess import InProcessCoordination
from nexa_adapters.redis import RedisCoordination, RedisSnapshotStore
from nexa_adapters.settings import Settings


def test_bootstrap_uses_inprocess_coordination_by_default() -> None:
    nexa = bootstrap(Settings(store_url="memory://"))
    assert isinstance(nexa.coordination, InProcessCoordination)


def test_bootstrap_builds_redis_coordination_and_snapshots_without_connecting() -> None:
    settings = Settings(
        store_url="memory://",
        coordination_url="redis://127.0.0.1:1/0?prefix=acme",
        snapshot_url="redis://127.0.0.1:1/1",
    )
    nexa = bootstrap(settings)
    assert isinstance(nexa.coordination, RedisCoordination)
    assert nexa.coordination.prefix == "acme"
    assert isinstance(nexa.snapshots, RedisSnapshotStore)
