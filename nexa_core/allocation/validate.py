"""The plan validator: an independent re-check of every rule a plan must keep.

It does not trust the solver's bookkeeping: it recomputes room usage from the
assignments, re-runs the policy gates and refits every need.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from nexa_core.allocation.model import AllocationPlan, GroupDemand, Violation
from nexa_core.allocation.ranking import allowed_payments, gate, usable_rate_cap
from nexa_core.geo import haversine_km
from nexa_core.model import HotelOffer, RoomType, Tier
from nexa_core.model.case import Airport
from nexa_core.policy import Policy

__all__ = ["validate_plan"]


def validate_plan(
    plan: AllocationPlan,
    groups: Sequence[GroupDemand],
    offers: Sequence[HotelOffer],
    policy: Policy,
    airport: Airport,
) -> list[Violation]:
    """Every violation in ``plan`` (empty: the plan is valid).

    Rules: ``SPLIT_PNR`` (a group in two hotels, or both assigned and unassigned),
    ``UNKNOWN_GROUP``, ``MISSING_GROUP`` (neither assigned nor reported unassigned),
    ``ROOM_FIT`` (rooms do not serve the group's needs one to one, or an accessible need
    got a standard room), ``CAPACITY`` (more rooms of a type taken than offered),
    ``POLICY`` (the hotel fails the tier's gates or a room's rate is above the cap or not
    offered), ``TIER_SEPARATION`` (a mixed-tier group placed, or — when the options ask for
    it — two tiers in one hotel).
    """
    out: list[Violation] = []
    by_id = {g.group_id: g for g in groups}
    by_offer = {str(o.urn): o for o in offers}
    payments = allowed_payments(policy, plan.options)
    hotels_of: dict[str, set[str]] = defaultdict(set)
    for a in plan.assignments:
        hotels_of[a.group_id].add(str(a.offer_urn))
    unassigned = {u.group_id for u in plan.unassigned}
    counted: dict[str, int] = defaultdict(int)
    for a in plan.assignments:
        counted[a.group_id] += 1
    for gid, n in sorted(counted.items()):
        if n > 1:
            out.append(Violation("SPLIT_PNR", f"group {gid} appears in {n} assignments", gid))
        if gid in unassigned:
            out.append(Violation("SPLIT_PNR", f"group {gid} is both assigned and unassigned", gid))
    for g in groups:
        if g.group_id not in counted and g.group_id not in unassigned:
            out.append(
                Violation("MISSING_GROUP", f"group {g.group_id} is not accounted for", g.group_id)
            )

    used: dict[tuple[str, RoomType, bool], int] = defaultdict(int)
    tiers_at: dict[str, set[Tier]] = defaultdict(set)
    for a in plan.assignments:
        found = by_id.get(a.group_id)
        if found is None:
            out.append(
                Violation("UNKNOWN_GROUP", f"group {a.group_id} is not in the input", a.group_id)
            )
            continue
        g = found
        offer = by_offer.get(str(a.offer_urn))
        if offer is None:
            out.append(
                Violation(
                    "POLICY",
                    f"offer {a.offer_urn} is not among the offers",
                    a.group_id,
                    a.hotel_urn,
                )
            )
            continue
        if g.mixed_tier:
            out.append(
                Violation(
                    "TIER_SEPARATION", f"mixed-tier group {g.group_id} was placed", g.group_id
                )
            )
        if a.tier is not g.tier:
            out.append(
                Violation("TIER_SEPARATION", f"group {g.group_id} placed as {a.tier}", g.group_id)
            )
        tiers_at[str(offer.urn)].add(g.tier)
        km = haversine_km(airport.latitude, airport.longitude, offer.latitude, offer.longitude)
        why = gate(offer, policy, g.tier, km, payments)
        if why is not None:
            out.append(
                Violation(
                    "POLICY", f"{offer.name} for {g.tier}: {why}", g.group_id, offer.hotel_urn
                )
            )
        cap = usable_rate_cap(policy, g.tier)
        # rooms must serve needs one to one
        if len(a.rooms) != len(g.needs):
            out.append(
                Violation(
                    "ROOM_FIT",
                    f"group {g.group_id} needs {len(g.needs)} rooms, got {len(a.rooms)}",
                    g.group_id,
                )
            )
        needs = sorted(g.needs, key=lambda n: (not n.accessible, -n.occupants))
        rooms = list(a.rooms)
        for need in needs:
            fit = [
                r
                for r in rooms
                if r.room_type.capacity >= need.occupants and (r.accessible or not need.accessible)
            ]
            if not fit:
                out.append(
                    Violation(
                        "ROOM_FIT",
                        f"group {g.group_id}: no room serves a {need.room_type} need "
                        f"({need.occupants} occupants{', accessible' if need.accessible else ''})",
                        g.group_id,
                        offer.hotel_urn,
                    )
                )
                continue
            best = min(fit, key=lambda r: (r.room_type.capacity, r.accessible))
            rooms.remove(best)
        for r in a.rooms:
            used[(str(offer.urn), r.room_type, r.accessible)] += 1
            offered = [
                ro.nightly_rate
                for ro in offer.rooms
                if ro.room_type is r.room_type and ro.accessible == r.accessible and ro.count > 0
            ]
            if r.nightly_rate not in offered:
                out.append(
                    Violation(
                        "POLICY",
                        f"{offer.name}: {r.room_type} at {r.nightly_rate} is not offered",
                        g.group_id,
                        offer.hotel_urn,
                    )
                )
            if cap is not None and r.nightly_rate > cap:
                out.append(
                    Violation(
                        "POLICY",
                        f"{offer.name}: {r.room_type} at {r.nightly_rate} above the {g.tier} cap {cap}",
                        g.group_id,
                        offer.hotel_urn,
                    )
                )
    for (urn, rt, acc), n in sorted(
        used.items(), key=lambda kv: (kv[0][0], kv[0][1].value, kv[0][2])
    ):
        offer = by_offer[urn]
        have = sum(r.count for r in offer.rooms if r.room_type is rt and r.accessible == acc)
        if n > have:
            out.append(
                Violation(
                    "CAPACITY",
                    f"{offer.name}: {n} {'accessible ' if acc else ''}{rt} rooms taken, {have} offered",
                    None,
                    offer.hotel_urn,
                )
            )
    if plan.options.separate_tiers_by_hotel:
        for urn, tiers in sorted(tiers_at.items()):
            if len(tiers) > 1:
                out.append(
                    Violation(
                        "TIER_SEPARATION",
                        f"{by_offer[urn].name} hosts {', '.join(sorted(t.value for t in tiers))}",
                        None,
                        by_offer[urn].hotel_urn,
                    )
                )
    return out
