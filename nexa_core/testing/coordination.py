"""Contract suite for :class:`~nexa_core.ports.Coordination` adapters.

Subclass :class:`CoordinationContract` and provide a ``coordination`` fixture: an empty
coordination store (its own key space) whose breakers use the ``breaker_settings``
fixture. Time-based checks use real, short TTLs, so the suite runs against real servers::

    class TestMyCoordination(CoordinationContract):
        @pytest.fixture
        async def coordination(self, breaker_settings):
            store = MyCoordination(..., breaker_settings=breaker_settings)
            yield store
            await store.close()
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import anyio
import pytest

from nexa_core.errors import (
    CapacityError,
    InvalidInputError,
    LockHeldError,
    NotFoundError,
    RateLimitedError,
    StaleFencingTokenError,
)
from nexa_core.ports import BreakerSettings, LockEvent
from nexa_core.tenancy import TenantContext
from nexa_core.urn import Urn

__all__ = ["CoordinationContract"]

LAN = TenantContext.system("urn:airline:LAN")
TAM = TenantContext.system("urn:airline:TAM")
LONG = timedelta(minutes=5)
#: long enough for a few calls to run inside it even on a loaded machine
SHORT = timedelta(milliseconds=600)
#: sleeping this long is always past SHORT
PAST_SHORT = 0.8


def _offer(n: int = 1) -> Urn:
    return Urn("offer", f"of-{n}")


def _attempt(n: int) -> Urn:
    return Urn("hold-attempt", f"h-{n}")


def _entity(n: int = 1) -> Urn:
    return Urn("sub-case", f"sc-{n}")


@pytest.mark.anyio
class CoordinationContract:
    """Every :class:`~nexa_core.ports.Coordination` passes this."""

    @pytest.fixture
    def anyio_backend(self) -> str:
        return "asyncio"

    @pytest.fixture
    def breaker_settings(self) -> BreakerSettings:
        return BreakerSettings(failure_threshold=3, cooldown=timedelta(milliseconds=800))

    @pytest.fixture
    async def coordination(
        self, breaker_settings: BreakerSettings
    ) -> AsyncIterator[Any]:  # pragma: no cover
        raise NotImplementedError("subclasses provide a coordination fixture")
        yield

    @pytest.fixture
    def key(self) -> str:
        """A rate-limit / breaker key nobody else uses."""
        return f"partner-{uuid.uuid4().hex[:8]}.booking"

    # ------------------------------------------------------------ holds

    async def test_available_is_inventory_minus_live_holds(self, coordination: Any) -> None:
        holds = coordination.holds
        await holds.set_inventory(LAN, _offer(), 5, ttl=LONG)
        assert await holds.available(LAN, _offer()) == 5
        hold = await holds.acquire(LAN, _offer(), _attempt(1), 2, ttl=LONG, owner="saga-1")
        assert (hold.attempt_urn, hold.offer_urn, hold.rooms, hold.owner) == (
            _attempt(1),
            _offer(),
            2,
            "saga-1",
        )
        assert hold.expires_at.tzinfo is not None
        assert await holds.available(LAN, _offer()) == 3

    async def test_acquiring_more_than_available_is_refused_and_changes_nothing(
        self, coordination: Any
    ) -> None:
        holds = coordination.holds
        await holds.set_inventory(LAN, _offer(), 3, ttl=LONG)
        await holds.acquire(LAN, _offer(), _attempt(1), 2, ttl=LONG)
        with pytest.raises(CapacityError):
            await holds.acquire(LAN, _offer(), _attempt(2), 2, ttl=LONG)
        assert await holds.available(LAN, _offer()) == 1
        await holds.acquire(LAN, _offer(), _attempt(3), 1, ttl=LONG)
        assert await holds.available(LAN, _offer()) == 0

    async def test_reacquiring_the_same_attempt_is_idempotent(self, coordination: Any) -> None:
        holds = coordination.holds
        await holds.set_inventory(LAN, _offer(), 2, ttl=LONG)
        first = await holds.acquire(LAN, _offer(), _attempt(1), 2, ttl=LONG)
        again = await holds.acquire(LAN, _offer(), _attempt(1), 2, ttl=LONG)
        assert again.rooms == first.rooms == 2
        assert abs((again.expires_at - first.expires_at).total_seconds()) < 0.01
        assert await holds.available(LAN, _offer()) == 0
        with pytest.raises(InvalidInputError):
            await holds.acquire(LAN, _offer(), _attempt(1), 1, ttl=LONG)

    async def test_confirmed_rooms_stay_taken_after_the_hold_ttl(self, coordination: Any) -> None:
        holds = coordination.holds
        await holds.set_inventory(LAN, _offer(), 4, ttl=LONG)
        await holds.acquire(LAN, _offer(), _attempt(1), 3, ttl=SHORT)
        await holds.confirm(LAN, _offer(), _attempt(1))
        await holds.confirm(LAN, _offer(), _attempt(1))  # idempotent
        await anyio.sleep(PAST_SHORT)
        assert await holds.available(LAN, _offer()) == 1
        # re-acquiring a confirmed attempt is a replay, not a second hold
        replay = await holds.acquire(LAN, _offer(), _attempt(1), 3, ttl=LONG)
        assert replay.rooms == 3
        assert await holds.available(LAN, _offer()) == 1
        # cancellation gives the confirmed rooms back, once
        await holds.release(LAN, _offer(), _attempt(1))
        await holds.release(LAN, _offer(), _attempt(1))
        assert await holds.available(LAN, _offer()) == 4

    async def test_release_gives_rooms_back_and_is_idempotent(self, coordination: Any) -> None:
        holds = coordination.holds
        await holds.set_inventory(LAN, _offer(), 2, ttl=LONG)
        await holds.acquire(LAN, _offer(), _attempt(1), 2, ttl=LONG)
        await holds.release(LAN, _offer(), _attempt(1))
        await holds.release(LAN, _offer(), _attempt(1))
        await holds.release(LAN, _offer(), _attempt(99))
        assert await holds.available(LAN, _offer()) == 2
        with pytest.raises(NotFoundError):
            await holds.confirm(LAN, _offer(), _attempt(1))

    async def test_an_abandoned_hold_expires_by_itself(self, coordination: Any) -> None:
        holds = coordination.holds
        await holds.set_inventory(LAN, _offer(), 1, ttl=LONG)
        await holds.acquire(LAN, _offer(), _attempt(1), 1, ttl=SHORT)
        with pytest.raises(CapacityError):
            await holds.acquire(LAN, _offer(), _attempt(2), 1, ttl=LONG)
        await anyio.sleep(PAST_SHORT)
        assert await holds.available(LAN, _offer()) == 1
        with pytest.raises(NotFoundError):
            await holds.confirm(LAN, _offer(), _attempt(1))
        await holds.acquire(LAN, _offer(), _attempt(2), 1, ttl=LONG)
        assert await holds.available(LAN, _offer()) == 0

    async def test_an_offer_without_inventory_is_not_found(self, coordination: Any) -> None:
        holds = coordination.holds
        with pytest.raises(NotFoundError):
            await holds.available(LAN, _offer(7))
        with pytest.raises(NotFoundError):
            await holds.acquire(LAN, _offer(7), _attempt(1), 1, ttl=LONG)
        with pytest.raises(NotFoundError):
            await holds.confirm(LAN, _offer(7), _attempt(1))
        await holds.release(LAN, _offer(7), _attempt(1))

    async def test_the_offer_inventory_expires_with_its_ttl(self, coordination: Any) -> None:
        holds = coordination.holds
        await holds.set_inventory(LAN, _offer(), 2, ttl=SHORT)
        assert await holds.available(LAN, _offer()) == 2
        await anyio.sleep(PAST_SHORT)
        with pytest.raises(NotFoundError):
            await holds.available(LAN, _offer())

    async def test_redeclaring_inventory_keeps_holds_and_confirmations(
        self, coordination: Any
    ) -> None:
        holds = coordination.holds
        await holds.set_inventory(LAN, _offer(), 5, ttl=LONG)
        await holds.acquire(LAN, _offer(), _attempt(1), 1, ttl=LONG)
        await holds.acquire(LAN, _offer(), _attempt(2), 2, ttl=LONG)
        await holds.confirm(LAN, _offer(), _attempt(2))
        await holds.set_inventory(LAN, _offer(), 4, ttl=LONG)
        assert await holds.available(LAN, _offer()) == 1

    async def test_inventory_redeclared_below_what_is_taken_reports_the_shortfall(
        self, coordination: Any
    ) -> None:
        holds = coordination.holds
        await holds.set_inventory(LAN, _offer(), 3, ttl=LONG)
        await holds.acquire(LAN, _offer(), _attempt(1), 3, ttl=LONG)
        await holds.set_inventory(LAN, _offer(), 1, ttl=LONG)  # the partner sold some
        assert await holds.available(LAN, _offer()) == -2
        with pytest.raises(CapacityError):
            await holds.acquire(LAN, _offer(), _attempt(2), 1, ttl=LONG)
        await holds.release(LAN, _offer(), _attempt(1))
        assert await holds.available(LAN, _offer()) == 1

    async def test_holds_of_tenants_are_isolated(self, coordination: Any) -> None:
        holds = coordination.holds
        await holds.set_inventory(LAN, _offer(), 1, ttl=LONG)
        with pytest.raises(NotFoundError):
            await holds.available(TAM, _offer())
        await holds.set_inventory(TAM, _offer(), 1, ttl=LONG)
        await holds.acquire(LAN, _offer(), _attempt(1), 1, ttl=LONG)
        await holds.acquire(TAM, _offer(), _attempt(1), 1, ttl=LONG)
        await holds.release(TAM, _offer(), _attempt(1))
        assert await holds.available(LAN, _offer()) == 0
        assert await holds.available(TAM, _offer()) == 1

    async def test_bad_hold_arguments_are_rejected(self, coordination: Any) -> None:
        holds = coordination.holds
        await holds.set_inventory(LAN, _offer(), 2, ttl=LONG)
        with pytest.raises(InvalidInputError):
            await holds.acquire(LAN, _offer(), Urn("case", "c-1"), 1, ttl=LONG)
        with pytest.raises(InvalidInputError):
            await holds.acquire(LAN, _offer(), _attempt(1), 0, ttl=LONG)
        with pytest.raises(InvalidInputError):
            await holds.acquire(LAN, _offer(), _attempt(1), 1, ttl=timedelta(0))
        with pytest.raises(InvalidInputError):
            await holds.set_inventory(LAN, _offer(), -1, ttl=LONG)
        assert await holds.available(LAN, _offer()) == 2

    async def test_concurrent_acquisitions_never_oversell(self, coordination: Any) -> None:
        holds = coordination.holds
        await holds.set_inventory(LAN, _offer(), 5, ttl=LONG)
        won: list[int] = []

        async def grab(n: int) -> None:
            try:
                await holds.acquire(LAN, _offer(), _attempt(n), 1, ttl=LONG)
                won.append(n)
            except CapacityError:
                pass

        async with anyio.create_task_group() as tg:
            for n in range(20):
                tg.start_soon(grab, n)
        assert len(won) == 5
        assert await holds.available(LAN, _offer()) == 0

    # ------------------------------------------------------------ locks

    async def test_a_lock_has_one_holder_and_reentry_gets_a_newer_token(
        self, coordination: Any
    ) -> None:
        locks = coordination.locks
        grant = await locks.acquire(LAN, _entity(), "op-ana", ttl=LONG)
        assert (grant.entity_urn, grant.owner) == (_entity(), "op-ana")
        held = await locks.holder(LAN, _entity())
        assert held is not None and (held.owner, held.token) == ("op-ana", grant.token)
        with pytest.raises(LockHeldError) as err:
            await locks.acquire(LAN, _entity(), "op-bob", ttl=LONG)
        assert err.value.retryable
        again = await locks.acquire(LAN, _entity(), "op-ana", ttl=LONG)
        assert again.token > grant.token
        with pytest.raises(StaleFencingTokenError):
            await locks.check_token(LAN, _entity(), grant.token)
        await locks.check_token(LAN, _entity(), again.token)

    async def test_tokens_grow_across_holders_and_stale_ones_are_refused(
        self, coordination: Any
    ) -> None:
        locks = coordination.locks
        first = await locks.acquire(LAN, _entity(), "op-ana", ttl=LONG)
        await locks.release(LAN, first)
        assert await locks.holder(LAN, _entity()) is None
        second = await locks.acquire(LAN, _entity(), "op-bob", ttl=LONG)
        assert second.token > first.token
        with pytest.raises(StaleFencingTokenError):
            await locks.check_token(LAN, _entity(), first.token)
        with pytest.raises(StaleFencingTokenError):
            await locks.check_token(LAN, _entity(), second.token + 1)
        await locks.check_token(LAN, _entity(), second.token)
        # a release with the old grant does not free the new holder's lock
        await locks.release(LAN, first)
        held = await locks.holder(LAN, _entity())
        assert held is not None and held.owner == "op-bob"

    async def test_a_lock_without_heartbeat_lapses_and_the_old_session_is_fenced(
        self, coordination: Any
    ) -> None:
        locks = coordination.locks
        ana = await locks.acquire(LAN, _entity(), "op-ana", ttl=SHORT)
        await anyio.sleep(PAST_SHORT)
        assert await locks.holder(LAN, _entity()) is None
        bob = await locks.acquire(LAN, _entity(), "op-bob", ttl=LONG)
        with pytest.raises(StaleFencingTokenError):
            await locks.heartbeat(LAN, ana, ttl=LONG)
        with pytest.raises(StaleFencingTokenError):
            await locks.check_token(LAN, _entity(), ana.token)
        held = await locks.holder(LAN, _entity())
        assert held is not None and held.token == bob.token

    async def test_heartbeats_keep_a_lock_alive_past_its_ttl(self, coordination: Any) -> None:
        locks = coordination.locks
        ttl = timedelta(seconds=1)
        grant = await locks.acquire(LAN, _entity(), "op-ana", ttl=ttl)
        for _ in range(6):
            await anyio.sleep(0.3)
            grant = await locks.heartbeat(LAN, grant, ttl=ttl)
        held = await locks.holder(LAN, _entity())
        assert held is not None and held.token == grant.token
        await locks.release(LAN, grant)
        assert await locks.holder(LAN, _entity()) is None

    async def test_a_refusal_names_the_holder_and_since_when_it_holds_the_lock(
        self, coordination: Any
    ) -> None:
        locks = coordination.locks
        grant = await locks.acquire(LAN, _entity(), "op-ana", ttl=LONG)
        assert grant.acquired_at is not None
        renewed = await locks.heartbeat(LAN, grant, ttl=LONG)
        again = await locks.acquire(LAN, _entity(), "op-ana", ttl=LONG)  # re-entrant
        assert renewed.acquired_at == again.acquired_at == grant.acquired_at
        held = await locks.holder(LAN, _entity())
        assert held is not None and held.acquired_at == grant.acquired_at
        with pytest.raises(LockHeldError) as err:
            await locks.acquire(LAN, _entity(), "op-bob", ttl=LONG)
        assert err.value.context["owner"] == "op-ana"
        assert err.value.context["since"] == grant.acquired_at.isoformat()
        assert "op-ana" in str(err.value)
        await locks.release(LAN, again)

    async def test_locks_of_tenants_are_isolated(self, coordination: Any) -> None:
        locks = coordination.locks
        await locks.acquire(LAN, _entity(), "op-ana", ttl=LONG)
        assert await locks.holder(TAM, _entity()) is None
        tam = await locks.acquire(TAM, _entity(), "op-bob", ttl=LONG)
        await locks.check_token(TAM, _entity(), tam.token)
        held = await locks.holder(LAN, _entity())
        assert held is not None and held.owner == "op-ana"

    async def test_bad_lock_arguments_are_rejected(self, coordination: Any) -> None:
        with pytest.raises(InvalidInputError):
            await coordination.locks.acquire(LAN, _entity(), "", ttl=LONG)
        with pytest.raises(InvalidInputError):
            await coordination.locks.acquire(LAN, _entity(), "op", ttl=timedelta(0))
        assert await coordination.locks.holder(LAN, _entity()) is None

    async def test_lock_changes_are_published_to_the_tenant(self, coordination: Any) -> None:
        locks = coordination.locks
        seen: list[LockEvent] = []
        async with locks.subscribe(LAN) as events:
            await locks.acquire(TAM, _entity(9), "op-tam", ttl=LONG)
            grant = await locks.acquire(LAN, _entity(), "op-ana", ttl=LONG)
            grant = await locks.heartbeat(LAN, grant, ttl=LONG)
            await locks.release(LAN, grant)
            with anyio.fail_after(5):
                async for event in events:
                    seen.append(event)
                    if len(seen) == 3:
                        break
        assert [e.kind for e in seen] == ["acquired", "renewed", "released"]
        assert {(e.entity_urn, e.owner, e.token) for e in seen} == {
            (_entity(), "op-ana", grant.token)
        }
        assert seen[0].expires_at is not None and seen[2].expires_at is None

    # ------------------------------------------------------------ rate limits

    async def test_a_bucket_grants_its_burst_then_refuses(
        self, coordination: Any, key: str
    ) -> None:
        rl = coordination.rate_limits
        grants = [await rl.try_acquire(key, rate=5) for _ in range(7)]
        assert grants == [True] * 5 + [False] * 2
        assert await rl.try_acquire(key + "-other", rate=5)

    async def test_acquire_waits_for_the_next_token(self, coordination: Any, key: str) -> None:
        rl = coordination.rate_limits
        await rl.acquire(key, rate=2, burst=1, deadline=1.0)
        started = time.monotonic()
        assert not await rl.try_acquire(key, rate=2, burst=1)
        await rl.acquire(key, rate=2, burst=1, deadline=2.0)
        assert time.monotonic() - started >= 0.25  # the window is 0.5 s

    async def test_acquire_gives_up_at_its_deadline(self, coordination: Any, key: str) -> None:
        rl = coordination.rate_limits
        await rl.acquire(key, rate=0.5, deadline=0.1)
        with pytest.raises(RateLimitedError) as err:
            await rl.acquire(key, rate=0.5, deadline=0.1)
        assert err.value.retryable
        assert err.value.retry_after is not None and 0 < err.value.retry_after <= 2.0

    async def test_bad_rates_are_rejected(self, coordination: Any, key: str) -> None:
        rl = coordination.rate_limits
        for rate, burst in ((0, None), (-1, None), (5, 0)):
            with pytest.raises(InvalidInputError):
                await rl.try_acquire(key, rate=rate, burst=burst)
        with pytest.raises(InvalidInputError):
            await rl.acquire(key, rate=5, deadline=-1)

    # ------------------------------------------------------------ breakers

    async def test_a_breaker_opens_after_consecutive_failures(
        self, coordination: Any, key: str
    ) -> None:
        br = coordination.breakers
        assert await br.state(key) == "closed"
        assert await br.allow(key)
        await br.record(key, success=False)
        await br.record(key, success=False)
        await br.record(key, success=True)  # resets the run
        await br.record(key, success=False)
        await br.record(key, success=False)
        assert await br.state(key) == "closed"
        await br.record(key, success=False)
        assert await br.state(key) == "open"
        assert not await br.allow(key)
        assert await br.state(key + "-other") == "closed"

    async def test_after_cooldown_one_probe_closes_or_reopens_the_breaker(
        self, coordination: Any, key: str
    ) -> None:
        br = coordination.breakers
        for _ in range(3):
            await br.record(key, success=False)
        await anyio.sleep(0.9)
        assert await br.state(key) == "half-open"
        assert await br.allow(key)
        assert not await br.allow(key)  # one probe at a time
        await br.record(key, success=False)
        assert await br.state(key) == "open"
        await anyio.sleep(0.9)
        assert await br.allow(key)
        await br.record(key, success=True)
        assert await br.state(key) == "closed"
        assert await br.allow(key) and await br.allow(key)
