"""The allocation entry point: rank per tier, build the problem, solve, explain.

:func:`allocate` is what the case flow calls; it is pure (no I/O) and deterministic.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal

import attrs

from nexa_core.allocation.heuristic import GreedyRepairSolver
from nexa_core.allocation.model import (
    AllocationOptions,
    AllocationPlan,
    AssignedRoom,
    Assignment,
    Candidate,
    GroupDemand,
    PlanTotals,
    UnassignedGroup,
)
from nexa_core.allocation.problem import (
    AllocationProblem,
    GroupType,
    HotelNode,
    NeedSpec,
    RoomClass,
    Solver,
    SolverResult,
)
from nexa_core.allocation.ranking import rank_offers, usable_rate_cap
from nexa_core.errors import InvalidInputError
from nexa_core.model import HotelOffer, PassengerGroup, RoomType, Tier
from nexa_core.model.case import Airport
from nexa_core.policy import Policy

__all__ = [
    "allocate",
    "allocate_groups",
    "build_problem",
    "group_demands",
    "plan_from_result",
]

_CENT = Decimal("0.01")


def _money(x: float | Decimal) -> Decimal:
    return Decimal(str(x)).quantize(_CENT, ROUND_HALF_UP)


def build_problem(
    groups: Sequence[GroupDemand],
    offers: Sequence[HotelOffer],
    policy: Policy,
    airport_lat: float,
    airport_lon: float,
    *,
    nights: int | None = None,
    options: AllocationOptions = AllocationOptions(),
) -> tuple[AllocationProblem, list[Candidate], list[UnassignedGroup]]:
    """Rank offers per tier, keep the eligible ones and fold groups into types.

    Returns the problem, every candidate (all tiers) and the groups that cannot enter the
    problem at all (mixed tier, no room needs, no compliant hotel).
    """
    seen_ids: set[str] = set()
    for g in groups:
        if g.group_id in seen_ids:
            raise InvalidInputError(f"group {g.group_id} is listed twice", field="groups")
        seen_ids.add(g.group_id)
    seen_offers: set[str] = set()
    for o in offers:
        if str(o.urn) in seen_offers:
            raise InvalidInputError(f"offer {o.urn} is listed twice", field="offers")
        seen_offers.add(str(o.urn))
    if nights is not None and nights <= 0:
        raise InvalidInputError("nights must be positive", field="nights")

    tiers = sorted({g.tier for g in groups}, key=list(Tier).index)
    candidates: list[Candidate] = []
    eligible: dict[Tier, list[int]] = {}
    index_of = {str(o.urn): i for i, o in enumerate(offers)}
    distance: dict[int, float] = {}
    for tier in tiers:
        ranked = rank_offers(offers, policy, tier, airport_lat, airport_lon, options)
        candidates.extend(ranked)
        eligible[tier] = [index_of[str(c.offer_urn)] for c in ranked if c.eligible]
        for c in ranked:
            distance[index_of[str(c.offer_urn)]] = c.distance_km

    used_offers = sorted({i for ids in eligible.values() for i in ids})
    hotels: list[HotelNode] = []
    classes: list[RoomClass] = []
    node_of: dict[int, int] = {}
    for oi in used_offers:
        o = offers[oi]
        merged: dict[tuple[RoomType, bool, Decimal], int] = defaultdict(int)
        for r in o.rooms:
            if r.count > 0:
                merged[(r.room_type, r.accessible, r.nightly_rate)] += r.count
        h = len(hotels)
        ids = []
        for (rt, acc, rate), n in sorted(
            merged.items(), key=lambda kv: (kv[0][0].capacity, kv[0][0].value, kv[0][1], kv[0][2])
        ):
            ids.append(len(classes))
            classes.append(RoomClass(len(classes), h, rt, rt.capacity, acc, float(rate), n, rate))
        hotels.append(
            HotelNode(
                h, o, distance[oi], nights if nights is not None else max(1, o.nights), tuple(ids)
            )
        )
        node_of[oi] = h

    unassigned: list[UnassignedGroup] = []
    buckets: dict[tuple[Tier, float, int, tuple[NeedSpec, ...]], list[GroupDemand]] = defaultdict(
        list
    )
    prio: dict[str, float] = {}
    for g in groups:
        p = policy.priority_for(g.tier, g.special_needs)
        prio[g.group_id] = p
        if g.mixed_tier:
            tiers_txt = ", ".join(sorted(t.value for t in g.tiers | {g.tier}))
            unassigned.append(
                UnassignedGroup(
                    g.group_id, g.tier, g.passengers, f"MIXED_TIER_GROUP: {tiers_txt}", p
                )
            )
            continue
        if not g.needs:
            unassigned.append(UnassignedGroup(g.group_id, g.tier, g.passengers, "NO_ROOM_NEEDS", p))
            continue
        if not eligible.get(g.tier):
            unassigned.append(
                UnassignedGroup(
                    g.group_id,
                    g.tier,
                    g.passengers,
                    "NO_COMPLIANT_HOTEL: no offer passes the tier's policy",
                    p,
                )
            )
            continue
        specs = tuple(
            sorted(
                (NeedSpec(max(1, n.occupants), n.accessible, n.room_type) for n in g.needs),
                key=lambda s: (not s.accessible, -s.occupants, s.room_type.value),
            )
        )
        buckets[(g.tier, p, g.passengers, specs)].append(g)

    types: list[GroupType] = []
    for (tier, p, pax, specs), members in sorted(
        buckets.items(), key=lambda kv: (list(Tier).index(kv[0][0]), kv[1][0].group_id)
    ):
        types.append(
            GroupType(
                index=len(types),
                tier=tier,
                priority=p,
                passengers=pax,
                needs=specs,
                group_ids=tuple(m.group_id for m in members),
                hotels=tuple(node_of[i] for i in eligible[tier]),
            )
        )
    caps = tuple(
        (t, None if (cap := usable_rate_cap(policy, t)) is None else float(cap)) for t in tiers
    )
    problem = AllocationProblem(
        hotels=tuple(hotels),
        classes=tuple(classes),
        types=tuple(types),
        rate_caps=caps,
        distance_cost=float(options.distance_cost_per_passenger_km),
        fixed_cost=float(options.fixed_cost_per_hotel),
        separate_tiers_by_hotel=options.separate_tiers_by_hotel,
    )
    return problem, candidates, unassigned


def plan_from_result(
    airport: str,
    groups: Sequence[GroupDemand],
    problem: AllocationProblem,
    candidates: Sequence[Candidate],
    unassigned: Sequence[UnassignedGroup],
    result: SolverResult,
    policy: Policy,
    options: AllocationOptions,
) -> AllocationPlan:
    """Turn a solver's placements into group assignments, reasons and totals."""
    by_id = {g.group_id: g for g in groups}
    cursor: dict[int, int] = defaultdict(int)  # next unplaced group of each type
    assignments: list[Assignment] = []
    chosen: dict[str, int] = defaultdict(int)
    # savings against the stated reference: each offer's market (public) rate; rooms bought
    # above it count negative; None when no chosen offer states a market rate
    savings: Decimal | None = None
    for pl in result.placements:
        t = problem.types[pl.type]
        h = problem.hotels[pl.hotel]
        o = h.offer
        start = cursor[pl.type]
        gids = t.group_ids[start : start + pl.count]
        cursor[pl.type] = start + pl.count
        # groups of a type share their needs: match them to the placement's rooms once
        first = by_id[gids[0]]
        specs = list(pl.rooms)
        rooms = []
        for need in sorted(
            first.needs, key=lambda n: (not n.accessible, -max(1, n.occupants), n.room_type.value)
        ):
            rc = problem.classes[specs.pop(0)]
            rooms.append(
                AssignedRoom(rc.room_type, need.room_type, need.occupants, rc.accessible, rc.price)
            )
        room_tuple = tuple(rooms)
        room_cost = _money(sum((r.nightly_rate for r in rooms), Decimal(0)) * h.nights)
        if o.market_rate is not None:
            market = o.market_rate
            saved = sum((market - r.nightly_rate for r in rooms), Decimal(0))
            savings = (savings or Decimal(0)) + saved * h.nights * len(gids)
        for gid in gids:
            assignments.append(
                Assignment(
                    group_id=gid,
                    tier=t.tier,
                    passengers=t.passengers,
                    hotel_urn=o.hotel_urn,
                    offer_urn=o.urn,
                    vendor=o.vendor,
                    rooms=room_tuple,
                    nights=h.nights,
                    room_cost=room_cost,
                    distance_km=h.distance_km,
                    priority=t.priority,
                )
            )
        chosen[f"{t.tier.value}|{o.urn}"] += len(gids)
    queue = {t.index: t.group_ids[cursor[t.index] :] for t in problem.types}
    leftovers = list(unassigned)
    for t in problem.types:
        for gid in queue[t.index]:
            g = by_id[gid]
            if not any(
                all(
                    any(problem.usable(t, n, problem.classes[c]) for c in problem.hotels[h].classes)
                    for n in t.needs
                )
                for h in t.hotels
            ):
                reason = "NO_FITTING_ROOM: no compliant hotel has rooms of the needed type or accessibility"
            else:
                reason = "NO_CAPACITY: compliant rooms are taken by groups of higher priority or better fit"
            leftovers.append(UnassignedGroup(gid, t.tier, g.passengers, reason, t.priority))
    leftovers.sort(key=lambda u: u.group_id)
    assignments.sort(key=lambda a: a.group_id)

    final_candidates: list[Candidate] = []
    for cand in candidates:
        n = chosen.get(f"{cand.tier.value}|{cand.offer_urn}", 0)
        if cand.eligible:
            why = f"chosen: {n} group(s)" if n else "eligible: not needed by the plan"
            final_candidates.append(attrs.evolve(cand, reason=why))
        else:
            final_candidates.append(cand)

    currency = problem.hotels[0].offer.currency if problem.hotels else "USD"
    room_cost_total = sum((a.room_cost for a in assignments), Decimal(0))
    dist_cost = sum(
        (
            options.distance_cost_per_passenger_km * a.passengers * Decimal(str(a.distance_km))
            for a in assignments
        ),
        Decimal(0),
    )
    hotels_used = len({str(a.offer_urn) for a in assignments})
    fixed = options.fixed_cost_per_hotel * hotels_used
    weighted_demand = sum(
        policy.priority_for(g.tier, g.special_needs) * g.passengers for g in groups
    )
    totals = PlanTotals(
        groups=len(groups),
        groups_assigned=len(assignments),
        passengers=sum(g.passengers for g in groups),
        passengers_assigned=sum(a.passengers for a in assignments),
        weighted_demand=round(weighted_demand, 6),
        weighted_coverage=round(sum(a.weight for a in assignments), 6),
        room_cost=_money(room_cost_total),
        distance_cost=_money(dist_cost),
        fixed_cost=_money(fixed),
        total_cost=_money(room_cost_total + dist_cost + fixed),
        rooms=sum(len(a.rooms) for a in assignments),
        hotels_used=hotels_used,
        currency=currency,
        savings_vs_market=_money(savings) if savings is not None else None,
    )
    diagnostics = {
        "solver": result.solver,
        "status": result.status,
        "optimal": result.optimal,
        "coverage_bound": result.coverage_bound,
        "wall_s": round(result.wall_s, 4),
        "group_types": len(problem.types),
        "hotels_eligible": len(problem.hotels),
    }
    return AllocationPlan(
        airport=airport,
        candidates=tuple(final_candidates),
        assignments=tuple(assignments),
        unassigned=tuple(leftovers),
        totals=totals,
        solver=result.solver,
        options=options,
        diagnostics=diagnostics,
    )


def allocate(
    groups: Sequence[GroupDemand],
    offers: Sequence[HotelOffer],
    policy: Policy,
    airport: Airport,
    *,
    nights: int | None = None,
    options: AllocationOptions = AllocationOptions(),
    solver: Solver | None = None,
    time_limit_s: float | None = None,
) -> AllocationPlan:
    """Rank, assign and explain: the one entry point of allocation.

    ``groups`` carry their room needs (from rooming); ``offers`` are deduplicated canonical
    offers; ``nights`` overrides each offer's own nights. Raises :class:`InvalidInputError`
    for duplicate group ids or offers and non-positive nights. Uses
    :class:`GreedyRepairSolver` unless another :class:`Solver` is given.
    """
    problem, candidates, unassigned = build_problem(
        groups, offers, policy, airport.latitude, airport.longitude, nights=nights, options=options
    )
    result = (solver or GreedyRepairSolver()).solve(problem, time_limit_s=time_limit_s)
    return plan_from_result(
        airport.iata, groups, problem, candidates, unassigned, result, policy, options
    )


def group_demands(
    groups: Sequence[PassengerGroup], policy: Policy
) -> tuple[list[GroupDemand], dict[str, str]]:
    """Rooming (:func:`nexa_core.rooming.plan_rooms`) of every group: the demands
    :func:`allocate` and :func:`~nexa_core.allocation.validate_plan` take, plus the
    ``ROOMING:`` reason of each group that cannot room by the rules (it gets no needs)."""
    from nexa_core.rooming import plan_rooms

    demands: list[GroupDemand] = []
    rooming_failed: dict[str, str] = {}
    for g in groups:
        try:
            needs = tuple(plan_rooms(g, policy))
        except InvalidInputError as exc:
            rooming_failed[g.group_id] = f"ROOMING: {exc}"
            needs = ()
        demands.append(GroupDemand.from_group(g, needs))
    return demands, rooming_failed


def allocate_groups(
    groups: Sequence[PassengerGroup],
    offers: Sequence[HotelOffer],
    policy: Policy,
    airport: Airport,
    *,
    nights: int | None = None,
    options: AllocationOptions = AllocationOptions(),
    solver: Solver | None = None,
    time_limit_s: float | None = None,
) -> AllocationPlan:
    """Rooming (:func:`nexa_core.rooming.plan_rooms`) then :func:`allocate`.

    A group that cannot room by the rules (e.g. children without an adult) is not placed;
    its unassigned reason starts with ``ROOMING:`` so the caller can open a review item.
    """
    demands, rooming_failed = group_demands(groups, policy)
    plan = allocate(
        demands,
        offers,
        policy,
        airport,
        nights=nights,
        options=options,
        solver=solver,
        time_limit_s=time_limit_s,
    )
    if not rooming_failed:
        return plan
    unassigned = tuple(
        attrs.evolve(u, reason=rooming_failed[u.group_id]) if u.group_id in rooming_failed else u
        for u in plan.unassigned
    )
    return attrs.evolve(plan, unassigned=unassigned)
