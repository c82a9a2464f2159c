from __future__ import annotations

from datetime import timedelta

import anyio
import pytest

from nexa_adapters.inprocess import InProcessCoordination
from nexa_core.errors import LockHeldError, StaleFencingTokenError
from nexa_core.locking import keep_lock
from nexa_core.tenancy import TenantContext
from nexa_core.urn import Urn

LAN = TenantContext.system("urn:airline:LAN")
SUB_CASE = Urn("sub-case", "sc-1")
TTL = timedelta(milliseconds=300)


@pytest.mark.anyio
async def test_a_kept_lock_outlives_its_ttl_and_is_released_at_the_end() -> None:
    locks = InProcessCoordination().locks
    async with keep_lock(locks, LAN, SUB_CASE, "session-ana", ttl=TTL) as lease:
        await anyio.sleep(0.8)
        held = await locks.holder(LAN, SUB_CASE)
        assert held is not None and held.owner == "session-ana"
        await locks.check_token(LAN, SUB_CASE, lease.token)
        with pytest.raises(LockHeldError):
            await locks.acquire(LAN, SUB_CASE, "session-bob", ttl=TTL)
        assert not lease.lost.is_set()
    assert await locks.holder(LAN, SUB_CASE) is None


@pytest.mark.anyio
async def test_a_kept_lock_is_released_when_the_block_fails() -> None:
    locks = InProcessCoordination().locks
    with pytest.raises(RuntimeError):
        async with keep_lock(locks, LAN, SUB_CASE, "session-ana", ttl=TTL):
            raise RuntimeError("boom")
    assert await locks.holder(LAN, SUB_CASE) is None


@pytest.mark.anyio
async def test_a_lease_taken_over_is_marked_lost_and_its_token_refused() -> None:
    locks = InProcessCoordination().locks
    long = timedelta(seconds=5)
    async with keep_lock(locks, LAN, SUB_CASE, "session-ana", ttl=long, every=TTL) as lease:
        current = await locks.holder(LAN, SUB_CASE)
        assert current is not None
        await locks.release(LAN, current)  # e.g. a supervisor force-releases the lock
        bob = await locks.acquire(LAN, SUB_CASE, "session-bob", ttl=long)
        with anyio.fail_after(5):
            await lease.lost.wait()
        with pytest.raises(StaleFencingTokenError):
            await locks.check_token(LAN, SUB_CASE, lease.token)
    held = await locks.holder(LAN, SUB_CASE)
    assert held is not None and held.token == bob.token  # ana's exit did not free bob's lock


# --------------------------------------------------------------------------- operator_lock


@pytest.mark.anyio
async def test_operator_lock_takes_every_entity_and_a_second_operator_sees_who_since_when() -> None:
    from nexa_core.locking import operator_lock
    from nexa_core.runtime import FixedClock

    clock = FixedClock()
    locks = InProcessCoordination(clock=clock).locks
    other = Urn("review", "rv-1")
    async with operator_lock(locks, LAN, [SUB_CASE, other], "urn:user:u-ana") as lease:
        await lease.check()
        assert {str(SUB_CASE), str(other)} == set(lease.leases)
        with pytest.raises(LockHeldError) as err:
            async with operator_lock(
                locks, LAN, [other, Urn("sub-case", "sc-2")], "urn:user:u-bob"
            ):
                pass  # pragma: no cover - never entered
        since = clock.now().strftime("%Y-%m-%d %H:%M:%SZ")
        assert str(err.value) == f"urn:review:rv-1 is locked by u-ana since {since}"
        assert err.value.context["owner"] == "urn:user:u-ana"
        # bob's partial acquisition was given back: sc-2 is free
        assert await locks.holder(LAN, Urn("sub-case", "sc-2")) is None
    assert await locks.holder(LAN, SUB_CASE) is None and await locks.holder(LAN, other) is None


@pytest.mark.anyio
async def test_an_operator_lock_taken_over_refuses_the_write() -> None:
    from nexa_core.locking import operator_lock

    locks = InProcessCoordination().locks
    async with operator_lock(locks, LAN, [SUB_CASE], "urn:user:u-ana") as lease:
        held = await locks.holder(LAN, SUB_CASE)
        assert held is not None
        await locks.release(LAN, held)  # lapsed (e.g. the process was paused past its TTL)
        await locks.acquire(LAN, SUB_CASE, "urn:user:u-bob", ttl=TTL)
        with pytest.raises(StaleFencingTokenError):
            await lease.check()
