from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import attrs
import pytest

from nexa_core.errors import IllegalTransitionError, InvalidInputError
from nexa_core.model import (
    CASE_LIFECYCLE,
    DEMAND_LIFECYCLE,
    POLICY_LIFECYCLE,
    RESERVATION_LIFECYCLE,
    REVIEW_LIFECYCLE,
    SUB_CASE_LIFECYCLE,
    TRANSFER_LIFECYCLE,
    Aggregate,
    CaseStatus,
    Contact,
    ManualReviewItem,
    Money,
    PassengerType,
    ReviewCategory,
    ReviewPriority,
    RoomType,
    SubCaseStatus,
    Tier,
)
from nexa_core.serialization import dumps, loads
from nexa_core.testing import make_case, make_group, make_passenger, make_sub_case
from nexa_core.testing.samples import SAMPLES, sample


def test_case_happy_path_and_manual_review_from_automated_states() -> None:
    case = make_case()
    for nxt in (
        CaseStatus.ENRICHING,
        CaseStatus.ALLOCATING,
        CaseStatus.BOOKING,
        CaseStatus.CONFIRMED,
        CaseStatus.CLOSED,
    ):
        case = case.transition(nxt)
    assert case.status is CaseStatus.CLOSED
    for state in (CaseStatus.OPEN, CaseStatus.ENRICHING, CaseStatus.ALLOCATING, CaseStatus.BOOKING):
        assert CASE_LIFECYCLE.allowed(state, CaseStatus.MANUAL_REVIEW)


def test_illegal_case_transition_raises_with_context() -> None:
    with pytest.raises(IllegalTransitionError) as info:
        make_case().transition(CaseStatus.CONFIRMED)
    assert info.value.context["source"] == "OPEN"
    assert info.value.context["target"] == "CONFIRMED"
    assert CASE_LIFECYCLE.terminal == frozenset({CaseStatus.CLOSED})


def test_sub_case_saga_states() -> None:
    sc = make_sub_case()
    sc = sc.transition(SubCaseStatus.PROCESSING).transition(SubCaseStatus.OFFER_READY)
    declined = sc.transition(SubCaseStatus.COMPENSATING).transition(SubCaseStatus.PENDING)
    assert declined.status is SubCaseStatus.PENDING
    failed = make_sub_case().transition(SubCaseStatus.PROCESSING).transition(SubCaseStatus.FAILED)
    assert failed.transition(SubCaseStatus.MANUAL_REVIEW).status is SubCaseStatus.MANUAL_REVIEW
    assert SUB_CASE_LIFECYCLE.terminal == frozenset(
        {SubCaseStatus.RESOLVED, SubCaseStatus.REJECTED_BY_PAX}
    )
    with pytest.raises(IllegalTransitionError):
        make_sub_case().transition(SubCaseStatus.OFFER_READY)


@pytest.mark.parametrize(
    "machine",
    [
        CASE_LIFECYCLE,
        SUB_CASE_LIFECYCLE,
        RESERVATION_LIFECYCLE,
        REVIEW_LIFECYCLE,
        DEMAND_LIFECYCLE,
        TRANSFER_LIFECYCLE,
        POLICY_LIFECYCLE,
    ],
)
def test_machines_only_point_at_declared_states(machine) -> None:
    states = set(machine.transitions)
    for targets in machine.transitions.values():
        assert targets <= states


def test_review_priority_follows_category() -> None:
    item = sample("reviews")
    assert item.priority is ReviewPriority.HIGH
    assert (
        attrs.evolve(item, category=ReviewCategory.POLICY_VIOLATION).priority is ReviewPriority.LOW
    )
    assert isinstance(item, ManualReviewItem)


@pytest.mark.parametrize("table", sorted(SAMPLES))
def test_every_aggregate_carries_airline_and_version_and_serializes(table: str) -> None:
    item = sample(table)
    assert isinstance(item, Aggregate)
    assert loads(dumps(item), type(item)) == item


def test_group_tier_lead_and_mixed_detection() -> None:
    g = make_group(
        passengers=(
            make_passenger("p-1", type=PassengerType.CHD),
            make_passenger("p-2", tier=Tier.BUSINESS),
        )
    )
    assert g.lead.urn.id == "p-2"
    assert g.tiers == frozenset({Tier.ECONOMY, Tier.BUSINESS})
    assert g.tier is Tier.BUSINESS


def test_contact_validation_and_redacted_repr() -> None:
    c = Contact("ana@example.com", "+56912345678", "es", "Ana")
    assert "ana" not in repr(c)
    with pytest.raises(InvalidInputError):
        Contact("not-an-email")
    with pytest.raises(InvalidInputError):
        Contact("a@b.co", "12345")


def test_money_and_room_capacity() -> None:
    assert Money("10.10", "USD") + Money(Decimal("0.90"), "USD") == Money(Decimal("11.00"), "USD")
    with pytest.raises(InvalidInputError):
        Money(1, "USD") + Money(1, "EUR")
    with pytest.raises(InvalidInputError):
        Money(1, "usd")
    assert [t.capacity for t in RoomType] == [1, 2, 2, 3, 4]


def test_naive_datetimes_are_rejected() -> None:
    with pytest.raises(InvalidInputError):
        attrs.evolve(make_case(), disrupted_at=datetime(2026, 1, 1))
    assert make_case().disrupted_at.tzinfo is UTC
