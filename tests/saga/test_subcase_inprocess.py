"""The sub-case booking and rollback sagas on the in-process engine."""

from __future__ import annotations

import pytest

from nexa_adapters.engine.inprocess import InProcessEngine
from nexa_core.model import (
    CardStatus,
    CaseStatus,
    DispatchMode,
    ReservationStatus,
    ReviewCategory,
    SubCaseStatus,
    TransferStatus,
)
from nexa_core.ports import AuditQuery
from tests.saga.world import LAN, World, make_world


async def _engine(world: World) -> InProcessEngine:
    engine = InProcessEngine(time_scale=0.0)
    for program in world.sagas.programs():
        engine.register(program)
    await engine.launch()
    return engine


@pytest.mark.anyio
async def test_booking_saga_reaches_offer_ready_with_card_transport_and_voucher() -> None:
    world = await make_world()
    engine = await _engine(world)
    sub = await world.sub_case()
    state = world.input(sub, meal_allowance="25", transport=DispatchMode.AUTOMATIC)
    outcome = await engine.run("subcase-booking@1", str(sub.urn), state)
    assert outcome.completed, outcome
    sub = await world.store.sub_cases.get(LAN, sub.urn)
    assert sub.status is SubCaseStatus.OFFER_READY
    res = await world.store.reservations.get(LAN, sub.reservation_urn)
    assert res.status is ReservationStatus.CONFIRMED
    assert len(world.booking.bookings) == 1
    assert len(world.payments.cards) == 1 and len(world.payments.loads) == 1
    assert len(world.transport.dispatched) == 1
    assert len(world.messages.sent) == 1
    assert world.live_holds() == 0
    types = [r.event.type for r in await world.store.outbox.read_after(0, limit=1000)]
    for t in (
        "subcase.processing",
        "reservation.confirmed",
        "wallet.card-issued",
        "transport.dispatched",
        "subcase.offer-ready",
        "voucher.issued",
    ):
        assert t in types
    snap = await world.snapshots.get(LAN, sub.urn)
    assert snap["status"] == "OFFER_READY"


@pytest.mark.anyio
async def test_starting_the_same_sub_case_twice_books_once() -> None:
    world = await make_world()
    engine = await _engine(world)
    sub = await world.sub_case()
    state = world.input(sub)
    first = await engine.run("subcase-booking@1", str(sub.urn), state)
    second = await engine.run("subcase-booking@1", str(sub.urn), state)
    assert first == second
    assert world.booking.calls == 1


@pytest.mark.anyio
async def test_primary_failing_permanently_falls_back_to_next_ranked_hotel() -> None:
    world = await make_world()
    engine = await _engine(world)
    sub = await world.sub_case()
    state = world.input(sub)
    # the primary's key fails permanently: one attempt, then the next candidate books
    from nexa_core.saga.subcase import _booking_key

    world.booking_faults.fail_keys.add(_booking_key(state, 0))
    outcome = await engine.run("subcase-booking@1", str(sub.urn), state)
    assert outcome.completed
    assert outcome.state["booked_candidate"] == 1
    assert world.live_holds() == 0
    runner = engine.runners[outcome.workflow_id]
    assert runner.attempts["book"] == 1 and runner.attempts["book#1"] == 1


@pytest.mark.anyio
async def test_every_hotel_failing_moves_sub_case_and_case_to_manual_review() -> None:
    world = await make_world()
    engine = await _engine(world)
    sub = await world.sub_case()
    world.booking_faults.permanent_rate = 1.0
    state = world.input(sub)
    outcome = await engine.run("subcase-booking@1", str(sub.urn), state)
    assert not outcome.completed and outcome.failed_step == "book"
    sub = await world.store.sub_cases.get(LAN, sub.urn)
    assert sub.status is SubCaseStatus.MANUAL_REVIEW
    case = await world.store.cases.get(LAN, sub.case_urn)
    assert case.status is CaseStatus.MANUAL_REVIEW
    [item] = await world.store.reviews.find(LAN, case_urn=sub.case_urn)
    assert item.category is ReviewCategory.BOOKING_FAILED
    assert len(item.attempted_hotels) == 4
    assert world.live_holds() == 0
    res = await world.store.reservations.get(
        LAN, outcome.state["reservation"] and sub.reservation_urn
    )
    assert res.status is ReservationStatus.FAILED
    audit = await world.store.audit.query(LAN, AuditQuery(action="saga.dead-lettered"))
    assert audit and "failed" in audit[0].reason


@pytest.mark.anyio
async def test_transient_failures_are_retried_per_booking_policy() -> None:
    world = await make_world(transient=0.5, seed=3)
    engine = await _engine(world)
    sub = await world.sub_case()
    outcome = await engine.run("subcase-booking@1", str(sub.urn), world.input(sub))
    assert outcome.completed
    assert engine.runners[outcome.workflow_id].attempts["book"] >= 1
    assert len(world.booking.bookings) == 1


@pytest.mark.anyio
async def test_decline_compensates_in_reverse_and_returns_sub_case_to_pending() -> None:
    world = await make_world()
    engine = await _engine(world)
    sub = await world.sub_case()
    state = world.input(sub, meal_allowance="20", transport=DispatchMode.AUTOMATIC)
    await engine.run("subcase-booking@1", str(sub.urn), state)
    outcome = await engine.run(
        "subcase-rollback@1",
        str(sub.urn),
        {"airline": str(LAN.airline_urn), "sub_case": str(sub.urn), "reason": "declined"},
    )
    assert outcome.completed, outcome
    runner = engine.runners[outcome.workflow_id]
    assert list(runner.attempts) == [
        "begin_rollback",
        "cancel_transport",
        "cancel_card",
        "cancel_booking",
        "release_hold",
        "end_rollback",
    ]
    sub = await world.store.sub_cases.get(LAN, sub.urn)
    assert sub.status is SubCaseStatus.PENDING and sub.reservation_urn is None
    assert world.booking.cancelled and world.payments.cancelled and world.transport.cancelled
    [card] = await world.store.cards.find(LAN, case_urn=sub.case_urn)
    assert card.status is CardStatus.CANCELLED
    [transfer] = await world.store.transfers.find(LAN, case_urn=sub.case_urn)
    assert transfer.status is TransferStatus.CANCELLED
    assert (
        await world.coordination.holds.available(LAN, world.offers[0].urn)
        == world.offers[0].total_rooms
    )
    types = [r.event.type for r in await world.store.outbox.read_after(0, limit=1000)]
    assert "subcase.rolled-back" in types and "operator.alerted" in types


@pytest.mark.anyio
async def test_an_open_breaker_shifts_the_booking_to_another_provider() -> None:
    import attrs as _attrs

    from nexa_core.urn import Urn

    world = await make_world()
    engine = await _engine(world)
    sub = await world.sub_case()
    primary = world.offers[0]
    backup = _attrs.evolve(
        world.offers[1],
        hotel_urn=Urn("hotel", world.offers[1].hotel_urn.id, "backup"),
        urn=Urn("offer", "backup-" + world.offers[1].urn.id),
    )
    for _ in range(10):  # consecutive transient failures open the sandbox breaker
        await world.coordination.breakers.record("sandbox", success=False)
    assert await world.coordination.breakers.state("sandbox") == "open"
    outcome = await engine.run(
        "subcase-booking@1", str(sub.urn), world.input(sub, offers=[primary, backup])
    )
    assert outcome.completed and outcome.state["vendor"] == "backup"
    assert world.booking.calls == 0 and len(world.backup.bookings) == 1
    runner = engine.runners[outcome.workflow_id]
    assert runner.attempts["book"] == 1  # the open breaker is not waited out


@pytest.mark.anyio
async def test_every_partner_call_takes_a_token_from_the_shared_rate_limiter() -> None:
    world = await make_world()
    taken: list[str] = []
    limiter = world.coordination.rate_limits
    original = limiter.acquire

    async def spy(key: str, **kw: object) -> None:
        taken.append(key)
        await original(key, **kw)  # type: ignore[arg-type]

    limiter.acquire = spy  # type: ignore[method-assign]
    engine = await _engine(world)
    sub = await world.sub_case()
    state = world.input(sub, meal_allowance="10", transport=DispatchMode.AUTOMATIC)
    assert (await engine.run("subcase-booking@1", str(sub.urn), state)).completed
    assert taken == [
        "sandbox.booking",
        "sandbox.card",  # issue
        "sandbox.card",  # the drop due now
        "sandbox.transport",  # quote
        "sandbox.transport",  # dispatch
        "sandbox.notification",
    ]
