from __future__ import annotations

from decimal import Decimal

import pytest

from nexa_core.allocation import (
    AllocationOptions,
    AllocationPlan,
    GreedyRepairSolver,
    allocate,
    build_problem,
    validate_plan,
)
from nexa_core.errors import InvalidInputError
from nexa_core.model import Money, RoomType, Tier
from nexa_core.policy import Policy, PolicyContext, TierConstraints
from nexa_core.testing.allocation import synthetic_closure

from .helpers import AIRPORT, POLICY, group, offer


def _run(groups, offers, policy=POLICY, **kw) -> AllocationPlan:  # type: ignore[no-untyped-def]
    plan = allocate(groups, offers, policy, AIRPORT, **kw)
    assert validate_plan(plan, groups, offers, policy, AIRPORT) == []
    return plan


def _hotel(plan: AllocationPlan, gid: str) -> str | None:
    a = plan.assignment_for(gid)
    return None if a is None else a.hotel_urn.id


def test_a_pnr_is_never_split_across_hotels() -> None:
    groups = [group("G1", [2, 2, 2])]
    offers = [offer("A", [(RoomType.DBL, 2, "90")]), offer("B", [(RoomType.DBL, 1, "90")])]
    plan = _run(groups, offers)
    assert plan.assignments == ()
    assert plan.unassigned[0].reason.startswith("NO_CAPACITY")


def test_a_bigger_room_serves_a_smaller_need() -> None:
    plan = _run([group("G1", [1])], [offer("A", [(RoomType.DBL, 1, "90")])])
    (room,) = plan.assignments[0].rooms
    assert (room.room_type, room.need_type) == (RoomType.DBL, RoomType.SGL)


def test_accessible_needs_only_get_accessible_rooms() -> None:
    groups = [group("G1", [2], accessible=True)]
    plan = _run(groups, [offer("A", [(RoomType.DBL, 5, "90")])])
    assert plan.unassigned[0].reason.startswith("NO_FITTING_ROOM")
    plan = _run(
        groups, [offer("A", [(RoomType.DBL, 5, "90")]), offer("B", [(RoomType.DBL, 1, "95", True)])]
    )
    assert _hotel(plan, "G1") == "B"
    assert plan.assignments[0].rooms[0].accessible


def test_higher_priority_groups_win_scarce_rooms() -> None:
    groups = [group("E", [1]), group("B", [1], tier=Tier.BUSINESS)]
    plan = _run(groups, [offer("A", [(RoomType.SGL, 1, "90")], stars=4)])
    assert _hotel(plan, "B") == "A"
    assert plan.assignment_for("E") is None


def test_weighted_coverage_prefers_more_passengers_per_room() -> None:
    # one TRP room: a family of three beats a single of the same tier
    groups = [group("S", [1]), group("F", [3])]
    plan = _run(groups, [offer("A", [(RoomType.TRP, 1, "120")])])
    assert _hotel(plan, "F") == "A"
    assert plan.totals.weighted_coverage == 3.0


def test_mixed_tier_groups_are_not_assigned() -> None:
    g = group("M", [2], tiers=frozenset({Tier.ECONOMY, Tier.BUSINESS}), tier=Tier.BUSINESS)
    plan = _run([g], [offer("A", [(RoomType.DBL, 5, "90")], stars=5)])
    assert plan.unassigned[0].reason.startswith("MIXED_TIER_GROUP")


def test_tiers_can_be_kept_in_separate_hotels() -> None:
    groups = [group("E", [2]), group("B", [1], tier=Tier.BUSINESS)]
    offers = [
        offer("A", [(RoomType.DBL, 2, "80"), (RoomType.SGL, 1, "70")], stars=4, km=2),
        offer("C", [(RoomType.DBL, 2, "90"), (RoomType.SGL, 1, "90")], stars=4, km=3),
    ]
    opts = AllocationOptions(separate_tiers_by_hotel=True)
    plan = _run(groups, offers, options=opts)
    assert {_hotel(plan, "E"), _hotel(plan, "B")} == {"A", "C"}


def test_only_policy_compliant_hotels_and_rooms_are_used() -> None:
    policy = Policy(
        "p",
        PolicyContext(),
        frozenset(Tier),
        constraints={Tier.ECONOMY: TierConstraints(max_nightly_rate=Money("100", "USD"))},
    )
    groups = [group("Q", [4]), group("D", [2])]
    offers = [offer("A", [(RoomType.DBL, 1, "90"), (RoomType.QUAD, 3, "140")])]
    plan = _run(groups, offers, policy)
    assert _hotel(plan, "D") == "A"
    assert plan.assignment_for("Q") is None  # the only QUAD rooms cost above the cap


def test_cost_is_minimised_at_equal_coverage() -> None:
    groups = [group("G1", [2]), group("G2", [2])]
    offers = [
        offer("dear", [(RoomType.DBL, 5, "150")], km=2),
        offer("cheap", [(RoomType.DBL, 5, "80")], km=2),
    ]
    plan = _run(groups, offers)
    assert {_hotel(plan, "G1"), _hotel(plan, "G2")} == {"cheap"}
    assert plan.totals.room_cost == Decimal("160.00")
    assert plan.totals.hotels_used == 1


def test_the_fixed_cost_per_hotel_consolidates_groups() -> None:
    groups = [group("G1", [2]), group("G2", [2])]
    offers = [
        offer("X", [(RoomType.DBL, 1, "80"), (RoomType.TWN, 1, "95")], km=2),
        offer("Y", [(RoomType.DBL, 1, "85")], km=2),
    ]
    plan = _run(groups, offers, options=AllocationOptions(fixed_cost_per_hotel=Decimal(100)))
    assert {_hotel(plan, "G1"), _hotel(plan, "G2")} == {"X"}
    plan = _run(groups, offers, options=AllocationOptions(fixed_cost_per_hotel=Decimal(0)))
    assert {_hotel(plan, "G1"), _hotel(plan, "G2")} == {"X", "Y"}


def test_contract_savings_versus_market_are_reported() -> None:
    offers = [offer("C", [(RoomType.DBL, 5, "70")], vendor="direct", market="100")]
    plan = _run([group("G1", [2])], offers, nights=2)
    assert plan.totals.savings_vs_market == Decimal("60.00")
    assert plan.assignments[0].vendor == "direct"


def test_candidates_keep_score_and_the_reason_they_were_chosen_or_filtered() -> None:
    offers = [
        offer("used", [(RoomType.DBL, 5, "80")]),
        offer("spare", [(RoomType.DBL, 5, "120")]),
        offer("cardonly", [(RoomType.DBL, 5, "60")], payments=frozenset()),
    ]
    plan = _run([group("G1", [2])], offers)
    reasons = {c.hotel_urn.id: c.reason for c in plan.candidates}
    assert reasons["used"] == "chosen: 1 group(s)"
    assert reasons["spare"] == "eligible: not needed by the plan"
    assert reasons["cardonly"].startswith("filtered:")


def test_bad_input_raises_a_typed_error() -> None:
    offers = [offer("A", [(RoomType.DBL, 5, "80")])]
    with pytest.raises(InvalidInputError):
        allocate([group("G1", [2]), group("G1", [1])], offers, POLICY, AIRPORT)
    with pytest.raises(InvalidInputError):
        allocate([group("G1", [2])], offers, POLICY, AIRPORT, nights=0)


def _rank_and_take(closure) -> float:  # type: ignore[no-untyped-def]
    """The reference product's greedy: tiers by priority, groups in order, each to the
    best-ranked hotel with room (exact room types first, then bigger ones)."""
    problem, _, _ = build_problem(
        closure.groups, closure.offers, closure.policy, AIRPORT.latitude, AIRPORT.longitude
    )
    rem = [c.count for c in problem.classes]
    covered = 0.0
    for t in sorted(problem.types, key=lambda t: -t.priority):
        for _ in range(t.count):
            for h in t.hotels:
                taken = []
                for need in t.needs:
                    for r in problem.hotels[h].classes:
                        if rem[r] > 0 and problem.usable(t, need, problem.classes[r]):
                            rem[r] -= 1
                            taken.append(r)
                            break
                    else:
                        for r in taken:
                            rem[r] += 1
                        taken = []
                        break
                if taken:
                    covered += t.weight
                    break
    return covered


def test_default_solver_beats_rank_and_take_on_scarce_inventory() -> None:
    c = synthetic_closure(1500, hotels=40, seed=3)
    plan = _run(list(c.groups), list(c.offers), c.policy)
    assert plan.totals.weighted_coverage > _rank_and_take(c)


def test_default_solver_is_close_to_the_exact_optimum() -> None:
    pytest.importorskip("highspy")
    from nexa_adapters.solvers.highs import HighsSolver

    c = synthetic_closure(600, hotels=25, seed=5)
    problem, _, _ = build_problem(c.groups, c.offers, c.policy, AIRPORT.latitude, AIRPORT.longitude)
    exact = HighsSolver().solve(problem, time_limit_s=30)
    heur = GreedyRepairSolver().solve(problem)
    assert heur.coverage <= exact.coverage + 1e-6
    assert heur.coverage >= 0.97 * exact.coverage
    exact_plan = allocate(c.groups, c.offers, c.policy, AIRPORT, solver=HighsSolver())
    assert validate_plan(exact_plan, c.groups, c.offers, c.policy, AIRPORT) == []


def test_allocate_groups_runs_rooming_and_flags_groups_that_cannot_room() -> None:
    from nexa_core.allocation import allocate_groups
    from nexa_core.model import PassengerType
    from nexa_core.testing.builders import make_group, make_passenger

    family = make_group(
        "FAM",
        pnr="FAM001",
        passengers=(
            make_passenger("p-a"),
            make_passenger("p-b"),
            make_passenger("p-c", type=PassengerType.CHD),
        ),
    )
    kids = make_group(
        "KIDS", pnr="KID001", passengers=(make_passenger("p-k", type=PassengerType.CHD),)
    )
    offers = [offer("A", [(RoomType.TRP, 1, "120"), (RoomType.DBL, 2, "90")])]
    plan = allocate_groups([family, kids], offers, POLICY, AIRPORT)
    a = plan.assignment_for("FAM")
    assert a is not None and [r.room_type for r in a.rooms] == [RoomType.TRP]
    (u,) = plan.unassigned
    assert u.group_id == "KIDS" and u.reason.startswith("ROOMING:")
