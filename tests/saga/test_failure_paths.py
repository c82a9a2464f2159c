"""Permanent failures injected at each step and each compensation of the sub-case sagas."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from nexa_adapters.engine.inprocess import InProcessEngine
from nexa_core.errors import ProviderRejectedError
from nexa_core.model import CaseStatus, DispatchMode, ReviewCategory, SubCaseStatus
from nexa_core.saga import SUBCASE_BOOKING, SUBCASE_ROLLBACK, SagaProgram
from tests.saga.world import LAN, World, make_world

ORDER = ["cancel_transport", "cancel_card", "cancel_booking", "release_hold"]


def _engine(world: World, failing: set[str]) -> InProcessEngine:
    handlers = world.sagas.handlers()
    for name in failing:

        async def boom(state: Mapping[str, Any], _n: str = name) -> Mapping[str, Any]:
            raise ProviderRejectedError(f"{_n} refused (injected)")

        handlers[name] = boom
    engine = InProcessEngine(time_scale=0.0)
    engine.register(SagaProgram(SUBCASE_BOOKING, handlers, world.sagas.retry))
    engine.register(SagaProgram(SUBCASE_ROLLBACK, handlers, world.sagas.retry))
    return engine


EXPECTED = {
    # failed step → compensations run (own first, then completed steps in reverse)
    "reserve": ["compensate:release_hold"],
    "payment": ["compensate:cancel_card", "compensate:cancel_booking", "compensate:release_hold"],
    "transport": [
        "compensate:cancel_transport",
        "compensate:cancel_card",
        "compensate:cancel_booking",
        "compensate:release_hold",
    ],
    "offer_ready": [
        "compensate:cancel_transport",
        "compensate:cancel_card",
        "compensate:cancel_booking",
        "compensate:release_hold",
    ],
}
CATEGORY = {
    "reserve": ReviewCategory.BOOKING_FAILED,
    "payment": ReviewCategory.PAYMENT_FAILED,
    "transport": ReviewCategory.TRANSPORT_FAILED,
    "offer_ready": ReviewCategory.DATA_INCOMPLETE,
}


@pytest.mark.anyio
@pytest.mark.parametrize("step", sorted(EXPECTED))
async def test_a_permanent_failure_compensates_in_reverse_and_opens_a_review(step: str) -> None:
    world = await make_world()
    engine = _engine(world, {step})
    sub = await world.sub_case()
    state = world.input(sub, meal_allowance="20", transport=DispatchMode.AUTOMATIC)
    outcome = await engine.run("subcase-booking@1", str(sub.urn), state)
    assert outcome.failed_step == step
    attempts = engine.runners[outcome.workflow_id].attempts
    compensations = [k for k in attempts if k.startswith("compensate:")]
    assert compensations == EXPECTED[step]
    assert attempts[step] == 1  # permanent: never retried
    assert list(attempts)[-1] == "to_manual_review"
    sub = await world.store.sub_cases.get(LAN, sub.urn)
    assert sub.status is SubCaseStatus.MANUAL_REVIEW
    [item] = await world.store.reviews.find(LAN, case_urn=sub.case_urn)
    assert item.category is CATEGORY[step]
    assert (await world.store.cases.get(LAN, sub.case_urn)).status is CaseStatus.MANUAL_REVIEW
    assert world.live_holds() == 0
    live = [
        k
        for k in world.booking.bookings
        if world.booking.bookings[k].confirmation_urn.id not in world.booking.cancelled
    ]
    assert live == []


@pytest.mark.anyio
@pytest.mark.parametrize("compensation", ["cancel_transport", "cancel_card", "cancel_booking"])
async def test_a_compensation_failing_for_good_becomes_a_dead_letter(compensation: str) -> None:
    world = await make_world()
    engine = _engine(world, {compensation})
    sub = await world.sub_case()
    state = world.input(sub, meal_allowance="20", transport=DispatchMode.AUTOMATIC)
    assert (await engine.run("subcase-booking@1", str(sub.urn), state)).completed
    outcome = await engine.run(
        "subcase-rollback@1",
        str(sub.urn),
        {"airline": str(LAN.airline_urn), "sub_case": str(sub.urn)},
    )
    assert outcome.dead_letters == (compensation,)
    steps = [
        k for k in engine.runners[outcome.workflow_id].attempts if not k.startswith("dead_letter")
    ]
    assert steps[1:5] == ORDER  # every other compensation still ran, in order
    [letter] = await world.store.dead_letters.find(LAN, sub_case_urn=sub.urn)
    assert letter.step == compensation and "injected" in letter.error
    sub = await world.store.sub_cases.get(LAN, sub.urn)
    assert sub.status is SubCaseStatus.MANUAL_REVIEW
    [item] = await world.store.reviews.find(LAN, case_urn=sub.case_urn)
    assert item.category is ReviewCategory.COMPENSATION_FAILED
