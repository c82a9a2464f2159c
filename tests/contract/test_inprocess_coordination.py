from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from nexa_adapters.inprocess import InProcessCoordination
from nexa_adapters.plugins import get_plugin_manager
from nexa_core.errors import CapacityError
from nexa_core.ports import BreakerSettings, Coordination
from nexa_core.runtime import FixedClock
from nexa_core.tenancy import TenantContext
from nexa_core.testing.coordination import CoordinationContract
from nexa_core.urn import Urn

LAN = TenantContext.system("urn:airline:LAN")


class TestInProcessCoordination(CoordinationContract):
    @pytest.fixture
    async def coordination(
        self, breaker_settings: BreakerSettings
    ) -> AsyncIterator[InProcessCoordination]:
        coordination = InProcessCoordination(breaker_settings=breaker_settings)
        yield coordination
        await coordination.close()


def test_the_inprocess_plugin_builds_coordination_for_inprocess_urls() -> None:
    pm = get_plugin_manager()
    built = pm.hook.nexa_coordination_from_url(url="inprocess://", options={})
    assert isinstance(built, InProcessCoordination)
    assert isinstance(built, Coordination)


@pytest.mark.anyio
async def test_inprocess_holds_follow_the_injected_clock() -> None:
    clock = FixedClock()
    holds = InProcessCoordination(clock=clock).holds
    offer, attempt = Urn("offer", "of-1"), Urn("hold-attempt", "h-1")
    await holds.set_inventory(LAN, offer, 1, ttl=timedelta(hours=1))
    hold = await holds.acquire(LAN, offer, attempt, 1, ttl=timedelta(minutes=15))
    assert hold.expires_at == clock.now() + timedelta(minutes=15)
    with pytest.raises(CapacityError):
        await holds.acquire(LAN, offer, Urn("hold-attempt", "h-2"), 1, ttl=timedelta(minutes=1))
    clock.advance(timedelta(minutes=15))
    assert await holds.available(LAN, offer) == 1
