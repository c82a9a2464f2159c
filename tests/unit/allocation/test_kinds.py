"""The kind-level coverage plan and its realisation by the default solver."""

from __future__ import annotations

from nexa_core.allocation import GreedyRepairSolver, allocate, build_problem, validate_plan
from nexa_core.allocation.kinds import plan_kinds, room_kinds
from nexa_core.model import Money, RoomType, Tier
from nexa_core.policy import Policy, PolicyContext, TierConstraints

from .helpers import AIRPORT, POLICY, group, offer

# economy may not pay more than 100 a night; business may (and needs four stars)
CAPPED = Policy(
    "capped",
    PolicyContext(),
    frozenset(Tier),
    constraints={
        Tier.ECONOMY: TierConstraints(max_nightly_rate=Money("100", "USD")),
        Tier.BUSINESS: TierConstraints(min_stars=4),
    },
)


def _problem(groups, offers, policy=POLICY):  # type: ignore[no-untyped-def]
    problem, _, _ = build_problem(groups, offers, policy, AIRPORT.latitude, AIRPORT.longitude)
    return problem


def _shared_and_exclusive():  # type: ignore[no-untyped-def]
    # "cheap" can host both tiers, "dear" only business (its rate is above the economy
    # cap); the business single is cheapest in "cheap", which is the economy pair's only
    # hotel
    groups = [group("B", [1], tier=Tier.BUSINESS), group("E", [2])]
    offers = [
        offer("cheap", [(RoomType.DBL, 1, "90")], stars=4, km=2),
        offer("dear", [(RoomType.DBL, 1, "300")], stars=4, km=3),
    ]
    return groups, offers


def test_room_classes_fold_into_kinds_by_capacity_access_and_tiers() -> None:
    groups, offers = _shared_and_exclusive()
    problem = _problem(groups, offers, CAPPED)
    kind_of, cap, keys = room_kinds(problem)
    assert len(set(kind_of)) == 2 and cap == [1, 1]
    assert sorted(len(tiers) for _, _, tiers in keys) == [1, 2]


def test_the_kind_plan_keeps_shared_rooms_for_the_tier_that_has_no_other_choice() -> None:
    groups, offers = _shared_and_exclusive()
    problem = _problem(groups, offers, CAPPED)
    assert plan_kinds(problem).coverage == 4.0
    # the density greedy alone sends the business single to the cheaper hotel
    plain = GreedyRepairSolver(repair=False, improve=False, plan=False).solve(problem)
    assert plain.coverage == 2.0
    planned = GreedyRepairSolver(repair=False, improve=False).solve(problem)
    assert planned.coverage == 4.0
    plan = allocate(groups, offers, CAPPED, AIRPORT)
    assert validate_plan(plan, groups, offers, CAPPED, AIRPORT) == []
    assert {a.group_id: a.hotel_urn.id for a in plan.assignments} == {"B": "dear", "E": "cheap"}


def test_mixed_room_types_are_repriced_or_searched_after_the_first_round() -> None:
    # one TRP and one DBL: a four-passenger triple (an infant) is worth 4 per room, the
    # family of six needing a triple and a double 3 per room, a single 1. By weight per
    # room the triple and the single win (5); the family alone is worth 6.
    groups = [group("T", [3], infants=1), group("F", [3, 2], infants=1), group("S", [1])]
    offers = [offer("A", [(RoomType.TRP, 1, "120"), (RoomType.DBL, 1, "90")])]
    problem = _problem(groups, offers)
    assert plan_kinds(problem, rounds=1, search=0).coverage == 5.0
    # either fix finds the family: room prices from the first round, or moving the
    # family's place in the order
    assert plan_kinds(problem, rounds=2, search=0).coverage == 6.0
    assert plan_kinds(problem, rounds=1, search=10).coverage == 6.0
    best = plan_kinds(problem)
    assert best.coverage == 6.0
    family = next(t.index for t in problem.types if len(t.needs) == 2)
    assert best.targets[family] == 1 and sum(best.targets) == 1
    planned = GreedyRepairSolver(repair=False, improve=False).solve(problem)
    assert planned.coverage == 6.0


def test_groups_take_all_their_rooms_in_the_plan_or_none() -> None:
    # three SGL rooms, business groups of two: only one group fits
    groups = [group("B1", [1, 1], tier=Tier.BUSINESS), group("B2", [1, 1], tier=Tier.BUSINESS)]
    offers = [offer("A", [(RoomType.SGL, 3, "90")], stars=4)]
    problem = _problem(groups, offers)
    kp = plan_kinds(problem)
    assert kp.targets == (1,) and kp.coverage == 4.0
    assert sum(kp.quota.values()) == 2


def test_the_cost_phase_swaps_groups_when_no_room_is_free() -> None:
    # two QUAD rooms, one near, one far, same rate; the business single goes first (denser)
    # and takes the near one, the family of four the far one. Only exchanging them saves
    # distance cost: 4 × 30 km outweighs 1 × 30 km.
    groups = [group("F", [4]), group("B", [1], tier=Tier.BUSINESS)]
    offers = [
        offer("near", [(RoomType.QUAD, 1, "100")], km=1),
        offer("far", [(RoomType.QUAD, 1, "100")], km=30),
    ]
    problem = _problem(groups, offers)
    kept = GreedyRepairSolver(repair=False, plan=False, swaps=False).solve(problem)
    swapped = GreedyRepairSolver(repair=False, plan=False).solve(problem)
    assert kept.coverage == swapped.coverage == 6.0
    fixed = 2 * problem.fixed_cost
    near, far = (h.distance_km for h in problem.hotels)
    assert [h.offer.name for h in problem.hotels] == ["Hotel near", "Hotel far"]
    assert round(kept.cost, 6) == round(200 + 0.5 * (near + 4 * far) + fixed, 6)
    assert round(swapped.cost, 6) == round(200 + 0.5 * (4 * near + far) + fixed, 6)
