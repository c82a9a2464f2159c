"""The booking saga's care steps are the care services: what a passenger gets, and how a
partner that keeps failing becomes a review item instead of a cancelled hotel."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import attrs
import pytest

from nexa_adapters.engine.inprocess import InProcessEngine
from nexa_adapters.sandbox import FaultInjector
from nexa_core.care import card_urn_for, meal_windows, read_document
from nexa_core.model import (
    Channel,
    Contact,
    DispatchMode,
    NotificationStatus,
    ReservationStatus,
    ReviewCategory,
    StayPlan,
    SubCase,
    SubCaseStatus,
    TransferDirection,
    TransferStatus,
)
from nexa_core.saga import Queue
from nexa_core.testing import make_group, make_passenger
from tests.saga.world import LAN, World, make_world

STAY = StayPlan(
    datetime(2026, 5, 6, 0, 30, tzinfo=UTC),  # 20:30 in Santiago
    datetime(2026, 5, 6, 11, 40, tzinfo=UTC),  # 07:40
    1,
    "America/Santiago",
)
DEPARTURE = datetime(2026, 5, 6, 13, 40, tzinfo=UTC)


async def _engine(world: World) -> InProcessEngine:
    engine = InProcessEngine(time_scale=0.0)
    for program in world.sagas.programs():
        engine.register(program)
    await engine.launch()
    return engine


async def _sub_case(world: World, *, phone: str | None = "+56911112222") -> SubCase:
    sub = await world.sub_case()
    lead = make_passenger("p-lead")
    lead = attrs.evolve(lead, contact=Contact("lead@example.com", phone, "es", "Ana Rojas"))
    group = make_group(sub.group.group_id, pnr=sub.group.pnr_urn.id, passengers=(lead,))
    return await world.store.sub_cases.update(
        LAN, attrs.evolve(sub, group=group, stay_plan=STAY, next_departure=DEPARTURE)
    )


def _input(world: World, sub: SubCase, **care: Any) -> dict[str, Any]:
    care.setdefault("meal_allowance", "30")
    care.setdefault("meal_schedule", "drops")
    care.setdefault("transport", DispatchMode.AUTOMATIC)
    care.setdefault("airport", "SCL")
    care.setdefault("timezone", "America/Santiago")
    care.setdefault("language", "es")
    care.setdefault("channels", (Channel.EMAIL, Channel.SMS))
    return world.input(sub, **care)


@pytest.mark.anyio
async def test_a_booked_group_gets_its_card_rides_voucher_and_page() -> None:
    world = await make_world()
    engine = await _engine(world)
    sub = await _sub_case(world)
    outcome = await engine.run("subcase-booking@1", str(sub.urn), _input(world, sub))
    assert outcome.completed
    sub = await world.store.sub_cases.get(LAN, sub.urn)
    assert sub.status is SubCaseStatus.OFFER_READY
    reservation = await world.store.reservations.get(LAN, sub.reservation_urn)  # type: ignore[arg-type]
    assert reservation.status is ReservationStatus.CONFIRMED and reservation.hotel_address

    card = await world.store.cards.get(LAN, card_urn_for(sub.case_urn, sub.group.group_id))
    windows = meal_windows(
        STAY.check_in, STAY.check_out, STAY.timezone, ("07:00", "12:00", "19:00")
    )
    assert (
        [(d.label, d.due_at) for d in card.drops]
        == windows
        == [
            ("dinner", STAY.check_in),  # the dinner window is still open at check-in
            ("breakfast", datetime(2026, 5, 6, 11, 0, tzinfo=UTC)),
        ]
    )
    assert len(world.payments.loads) == 2  # both drops are due (the stay is in the past)

    transfers = await world.store.transfers.find(LAN, case_urn=sub.case_urn)
    assert {t.direction for t in transfers} == set(TransferDirection)
    assert {t.status for t in transfers} == {TransferStatus.DISPATCHED}

    notes = await world.store.notifications.find(LAN, group_id=sub.group.group_id)
    assert sorted((n.channel.value, n.language) for n in notes) == [("EMAIL", "es"), ("SMS", "es")]
    assert {n.status for n in notes} == {NotificationStatus.SENT}
    email = world.messages.sent[next(n.dedup_key for n in notes if n.channel is Channel.EMAIL)]
    assert reservation.hotel_address in (email.html or "")
    assert "Recogida" in email.text or "recogida" in email.text  # the transport block

    doc = await read_document(world.sagas.care, LAN, sub.urn)
    assert doc.voucher is not None and doc.voucher.hotel.address == reservation.hotel_address
    assert doc.qr_payload == str(reservation.urn) and doc.qr_png
    assert {r.direction for r in doc.rides} == set(TransferDirection)
    assert doc.card is not None and doc.card.loaded == str(card.loaded.amount)
    assert doc.status == "OFFER_READY" and doc.language == "es"


@pytest.mark.anyio
async def test_a_card_partner_refusing_becomes_a_review_and_the_hotel_stays_booked() -> None:
    world = await make_world()
    world.payments.faults.permanent_rate = 1.0
    engine = await _engine(world)
    sub = await _sub_case(world)
    outcome = await engine.run("subcase-booking@1", str(sub.urn), _input(world, sub))
    assert outcome.completed and outcome.state.get("payment_failed")
    sub = await world.store.sub_cases.get(LAN, sub.urn)
    assert sub.status is SubCaseStatus.OFFER_READY
    [item] = await world.store.reviews.find(LAN, case_urn=sub.case_urn)
    assert item.category is ReviewCategory.PAYMENT_FAILED
    assert engine.runners[outcome.workflow_id].attempts["payment"] == 1  # permanent: no retry
    assert world.booking.cancelled == set()


@pytest.mark.anyio
async def test_a_card_partner_that_stays_down_is_retried_then_reviewed() -> None:
    world = await make_world()
    world.payments.name = "cards"  # its own breaker: the other sandbox partners stay healthy
    world.payments.faults.transient_rate = 1.0
    engine = await _engine(world)
    sub = await _sub_case(world)
    outcome = await engine.run("subcase-booking@1", str(sub.urn), _input(world, sub))
    assert outcome.completed
    limit = world.sagas.retry.for_queue(Queue.PAYMENT).max_attempts
    assert engine.runners[outcome.workflow_id].attempts["payment"] == limit  # the queue's policy
    [item] = await world.store.reviews.find(LAN, case_urn=sub.case_urn)
    assert item.category is ReviewCategory.PAYMENT_FAILED


@pytest.mark.anyio
async def test_no_transport_vendor_raises_transport_failed_and_the_offer_still_goes_out() -> None:
    world = await make_world()
    world.transport.max_passengers = 0  # the fleet has no vehicle for anyone
    engine = await _engine(world)
    sub = await _sub_case(world)
    outcome = await engine.run("subcase-booking@1", str(sub.urn), _input(world, sub))
    assert outcome.completed
    sub = await world.store.sub_cases.get(LAN, sub.urn)
    assert sub.status is SubCaseStatus.OFFER_READY
    items = await world.store.reviews.find(LAN, case_urn=sub.case_urn)
    assert {i.category for i in items} == {ReviewCategory.TRANSPORT_FAILED}
    transfers = await world.store.transfers.find(LAN, case_urn=sub.case_urn)
    assert {t.status for t in transfers} == {TransferStatus.FAILED}
    doc = await read_document(world.sagas.care, LAN, sub.urn)
    assert doc.rides and {r.status for r in doc.rides} == {TransferStatus.FAILED}


@pytest.mark.anyio
async def test_no_deliverable_channel_raises_a_notification_review_and_the_saga_goes_on() -> None:
    world = await make_world()
    world.messages.channels = frozenset({Channel.PUSH})
    engine = await _engine(world)
    sub = await _sub_case(world)
    outcome = await engine.run("subcase-booking@1", str(sub.urn), _input(world, sub))
    assert outcome.completed and outcome.state["notified"] == []
    sub = await world.store.sub_cases.get(LAN, sub.urn)
    assert sub.status is SubCaseStatus.OFFER_READY
    [item] = await world.store.reviews.find(LAN, case_urn=sub.case_urn)
    assert item.category is ReviewCategory.NOTIFICATION
    assert (await read_document(world.sagas.care, LAN, sub.urn)).voucher is not None


@pytest.mark.anyio
async def test_a_message_partner_that_stays_down_is_retried_then_reviewed() -> None:
    world = await make_world()
    world.messages.name = "mailer"  # its own breaker
    world.messages.faults = FaultInjector(transient_rate=1.0)
    engine = await _engine(world)
    sub = await _sub_case(world)
    outcome = await engine.run("subcase-booking@1", str(sub.urn), _input(world, sub))
    assert outcome.completed
    # retried until the partner's breaker opened (then no retry can help) or attempts ran out
    tries = engine.runners[outcome.workflow_id].attempts["notify"]
    assert 1 < tries <= world.sagas.retry.for_queue(Queue.NOTIFICATION).max_attempts
    notes = await world.store.notifications.find(LAN, group_id=sub.group.group_id)
    assert {n.status for n in notes} == {NotificationStatus.FAILED}
    assert max(n.attempts for n in notes) == tries  # every attempt is on the record
    [item] = await world.store.reviews.find(LAN, case_urn=sub.case_urn)
    assert item.category is ReviewCategory.NOTIFICATION
    assert (await world.store.sub_cases.get(LAN, sub.urn)).status is SubCaseStatus.OFFER_READY


@pytest.mark.anyio
async def test_the_rollback_cancels_the_rides_and_the_card_through_the_care_services() -> None:
    world = await make_world()
    engine = await _engine(world)
    sub = await _sub_case(world)
    assert (await engine.run("subcase-booking@1", str(sub.urn), _input(world, sub))).completed
    rollback = await engine.run(
        "subcase-rollback@1",
        str(sub.urn),
        {"airline": str(LAN.airline_urn), "sub_case": str(sub.urn), "reason": "declined"},
    )
    assert rollback.completed
    transfers = await world.store.transfers.find(LAN, case_urn=sub.case_urn)
    assert {t.status for t in transfers} == {TransferStatus.CANCELLED}
    assert len(world.transport.cancelled) == 2
    card = await world.store.cards.get(LAN, card_urn_for(sub.case_urn, sub.group.group_id))
    assert card.status.value == "CANCELLED"
    assert (await world.store.sub_cases.get(LAN, sub.urn)).status is SubCaseStatus.PENDING
