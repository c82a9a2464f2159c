from __future__ import annotations

import attrs

from nexa_core.allocation import AllocationOptions, allocate, validate_plan
from nexa_core.model import Money, RoomType, Tier
from nexa_core.policy import Policy, PolicyContext, TierConstraints

from .helpers import AIRPORT, POLICY, group, offer


def _rules(plan, groups, offers, policy=POLICY) -> set[str]:  # type: ignore[no-untyped-def]
    return {v.rule for v in validate_plan(plan, groups, offers, policy, AIRPORT)}


def test_validator_flags_a_split_pnr() -> None:
    groups = [group("G1", [2])]
    offers = [offer("A", [(RoomType.DBL, 5, "80")]), offer("B", [(RoomType.DBL, 5, "80")])]
    plan = allocate(groups, offers, POLICY, AIRPORT)
    other = attrs.evolve(
        plan.assignments[0], hotel_urn=offers[1].hotel_urn, offer_urn=offers[1].urn
    )
    bad = attrs.evolve(plan, assignments=(*plan.assignments, other))
    assert "SPLIT_PNR" in _rules(bad, groups, offers)


def test_validator_flags_a_capacity_overrun() -> None:
    groups = [group("G1", [2]), group("G2", [2])]
    offers = [offer("A", [(RoomType.DBL, 1, "80")])]
    plan = allocate(groups, offers, POLICY, AIRPORT)
    assert len(plan.assignments) == 1
    extra = attrs.evolve(plan.assignments[0], group_id="G2")
    bad = attrs.evolve(
        plan,
        assignments=(*plan.assignments, extra),
        unassigned=tuple(u for u in plan.unassigned if u.group_id != "G2"),
    )
    assert _rules(bad, groups, offers) == {"CAPACITY"}


def test_validator_flags_a_policy_breach() -> None:
    groups = [group("G1", [2])]
    offers = [offer("A", [(RoomType.DBL, 5, "80")], stars=3)]
    plan = allocate(groups, offers, POLICY, AIRPORT)
    strict = Policy(
        "p",
        PolicyContext(),
        frozenset(Tier),
        constraints={
            Tier.ECONOMY: TierConstraints(min_stars=4, max_nightly_rate=Money("50", "USD"))
        },
    )
    assert "POLICY" in _rules(plan, groups, offers, strict)


def test_validator_flags_tier_separation_and_room_fit_breaches() -> None:
    groups = [group("E", [2]), group("B", [1], tier=Tier.BUSINESS)]
    offers = [offer("A", [(RoomType.DBL, 5, "80"), (RoomType.SGL, 5, "70")], stars=4)]
    plan = allocate(groups, offers, POLICY, AIRPORT)
    assert _rules(plan, groups, offers) == set()
    separated = attrs.evolve(plan, options=AllocationOptions(separate_tiers_by_hotel=True))
    assert _rules(separated, groups, offers) == {"TIER_SEPARATION"}
    a = plan.assignment_for("E")
    assert a is not None
    small = attrs.evolve(a, rooms=(attrs.evolve(a.rooms[0], room_type=RoomType.SGL),))
    bad = attrs.evolve(plan, assignments=tuple(small if x is a else x for x in plan.assignments))
    assert "ROOM_FIT" in _rules(bad, groups, offers)


def test_validator_flags_groups_missing_from_the_plan() -> None:
    groups = [group("G1", [2])]
    offers = [offer("A", [(RoomType.DBL, 5, "80")])]
    plan = allocate(groups, offers, POLICY, AIRPORT)
    assert _rules(attrs.evolve(plan, assignments=()), groups, offers) == {"MISSING_GROUP"}
