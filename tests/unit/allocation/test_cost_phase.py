"""The small-instance cost phase of the default solver: single-room flow cycles, exchanges
with waiting groups, closing a hotel along a path of moves."""

from __future__ import annotations

import random

from nexa_core.allocation import AllocationProblem, build_problem
from nexa_core.allocation.heuristic import _State
from nexa_core.model import RoomType, Tier

from .helpers import AIRPORT, POLICY, group, offer


def _problem(groups, offers) -> AllocationProblem:  # type: ignore[no-untyped-def]
    problem, _, _ = build_problem(groups, offers, POLICY, AIRPORT.latitude, AIRPORT.longitude)
    return problem


def _state(problem: AllocationProblem, where: dict[str, str]) -> _State:
    """A state with group id → hotel name placements (cheapest fitting rooms)."""
    st = _State(problem, 1e18)
    names = [h.offer.name for h in problem.hotels]
    for gid, hotel in where.items():
        k = next(t.index for t in problem.types if gid in t.group_ids)
        h = names.index(f"Hotel {hotel}")
        rooms = st.fit(k, h, False)
        assert rooms is not None
        st.add(k, h, rooms)
    return st


def _where(problem: AllocationProblem, st: _State) -> dict[str, str]:
    out = {}
    for (k, h), copies in st.placed.items():
        for i, _ in enumerate(copies):
            out[problem.types[k].group_ids[i]] = problem.hotels[h].offer.name
    return out


def _km(problem: AllocationProblem) -> dict[str, float]:
    return {h.offer.name: h.distance_km for h in problem.hotels}


def test_flow_cycles_reach_the_cheapest_rotation() -> None:
    # one QUAD in each of three hotels at the same rate; the family of four sits in the
    # middle one, the pair in the far one and the single in the near one. The cheapest
    # placement moves all three (4 → near, 2 → mid, 1 → far).
    groups = [group("ONE", [1]), group("TWO", [2]), group("FOUR", [4])]
    offers = [
        offer(name, [(RoomType.QUAD, 1, "100")], km=km)
        for name, km in (("near", 1), ("mid", 10), ("far", 30))
    ]
    problem = _problem(groups, offers)
    st = _state(problem, {"ONE": "near", "FOUR": "mid", "TWO": "far"})
    assert st.reassign_single(10) >= 1
    assert _where(problem, st) == {"FOUR": "Hotel near", "TWO": "Hotel mid", "ONE": "Hotel far"}
    km = _km(problem)
    cost = st.result("t", 0.0).cost
    expected = 300 + 0.5 * (4 * km["Hotel near"] + 2 * km["Hotel mid"] + km["Hotel far"])
    assert round(cost, 6) == round(expected + 3 * problem.fixed_cost, 6)
    assert st.reassign_single(10) == 0


def test_a_placed_group_gives_way_to_a_waiting_one_of_the_same_weight() -> None:
    # one DBL far away: the economy pair (weight 2) holds it; the business single (weight
    # 2 too) costs less distance there, so it takes the room and the pair waits
    groups = [group("PAIR", [2]), group("BIZ", [1], tier=Tier.BUSINESS)]
    offers = [offer("far", [(RoomType.DBL, 1, "100")], km=30, stars=4)]
    problem = _problem(groups, offers)
    weights = {t.group_ids[0]: t.weight for t in problem.types}
    assert weights == {"PAIR": 2.0, "BIZ": 2.0}
    st = _state(problem, {"PAIR": "far"})
    assert st.reassign_single(10) == 1
    assert _where(problem, st) == {"BIZ": "Hotel far"}
    assert st.coverage() == 2.0
    km = _km(problem)["Hotel far"]
    assert round(st.result("t", 0.0).cost, 6) == round(100 + 0.5 * km + problem.fixed_cost, 6)


def test_a_lighter_waiting_group_never_replaces_a_heavier_one() -> None:
    # same room, but the waiting single is economy (weight 1): coverage would fall
    groups = [group("PAIR", [2]), group("ONE", [1])]
    offers = [offer("far", [(RoomType.DBL, 1, "100")], km=30)]
    problem = _problem(groups, offers)
    st = _state(problem, {"PAIR": "far"})
    assert st.reassign_single(10) == 0
    assert _where(problem, st) == {"PAIR": "Hotel far"}


def test_a_hotel_closes_along_a_path_of_moves() -> None:
    # "lone" hosts only the family of four; the QUAD of "busy" holds a single (and its DBL
    # a pair that fits nowhere else), "open" (in use) has a free SGL. The family cannot
    # move straight into a free room; the path family → busy's QUAD, single → open's SGL
    # closes "lone".
    groups = [
        group("FAM", [4]),
        group("ONE", [1]),
        group("PAIR", [2]),
        group("BIZ", [1], tier=Tier.BUSINESS),
    ]
    offers = [
        offer("lone", [(RoomType.QUAD, 1, "100")], km=5),
        offer("busy", [(RoomType.QUAD, 1, "100"), (RoomType.DBL, 1, "90")], km=5),
        offer("open", [(RoomType.SGL, 2, "80")], km=5),
    ]
    problem = _problem(groups, offers)
    st = _state(problem, {"FAM": "lone", "PAIR": "busy", "ONE": "busy", "BIZ": "open"})
    before = st.result("t", 0.0).cost
    assert st.close_by_paths(5) == 1
    assert _where(problem, st) == {
        "FAM": "Hotel busy",
        "PAIR": "Hotel busy",
        "ONE": "Hotel open",
        "BIZ": "Hotel open",
    }
    km = _km(problem)
    after = st.result("t", 0.0).cost
    expected = 100 + 90 + 2 * 80 + 0.5 * (6 * km["Hotel busy"] + 2 * km["Hotel open"])
    assert round(after, 6) == round(expected + 2 * problem.fixed_cost, 6)
    assert after < before


def test_ruin_and_recreate_for_cost_closes_a_hotel() -> None:
    # each group alone in its hotel; "b" has room for both, so one hotel's fixed cost goes
    groups = [group("ONE", [1]), group("BIZ", [1], tier=Tier.BUSINESS)]
    offers = [
        offer("a", [(RoomType.SGL, 1, "80")], km=5),
        offer("b", [(RoomType.SGL, 2, "80")], km=5),
    ]
    problem = _problem(groups, offers)
    st = _state(problem, {"ONE": "a", "BIZ": "b"})
    st.cost_search(50, random.Random(7))
    assert _where(problem, st) == {"ONE": "Hotel b", "BIZ": "Hotel b"}
    km = _km(problem)["Hotel b"]
    assert round(st.result("t", 0.0).cost, 6) == round(160 + km + problem.fixed_cost, 6)
    assert st.coverage() == 3.0
