"""Persisting a plan as an :class:`AllocationWave`, idempotently per
(case, demand, wave sequence)."""

from __future__ import annotations

from typing import Any

from nexa_core.allocation.model import AllocationPlan
from nexa_core.idempotency import idempotency_key
from nexa_core.model import AllocationWave
from nexa_core.ports import Clock, IdGenerator, OperationalStore
from nexa_core.tenancy import TenantContext
from nexa_core.urn import Urn

__all__ = ["plan_document", "record_wave", "wave_key"]


def wave_key(case_urn: Urn, demand_urn: Urn, sequence: int) -> str:
    """The wave's idempotency key."""
    return idempotency_key("wave", case_urn, demand_urn, sequence)


def plan_document(plan: AllocationPlan) -> dict[str, Any]:
    """The plan as a JSON-friendly mapping (camelCase keys, amounts as strings)."""
    t = plan.totals
    return {
        "airport": plan.airport,
        "solver": plan.solver,
        "candidates": [
            {
                "tier": c.tier.value,
                "hotelUrn": str(c.hotel_urn),
                "offerUrn": str(c.offer_urn),
                "name": c.name,
                "vendor": c.vendor,
                "distanceKm": c.distance_km,
                "cheapestRate": None if c.cheapest_rate is None else str(c.cheapest_rate),
                "eligible": c.eligible,
                "score": c.score,
                "rank": c.rank,
                "reason": c.reason,
            }
            for c in plan.candidates
        ],
        "assignments": [
            {
                "groupId": a.group_id,
                "tier": a.tier.value,
                "passengers": a.passengers,
                "hotelUrn": str(a.hotel_urn),
                "offerUrn": str(a.offer_urn),
                "vendor": a.vendor,
                "nights": a.nights,
                "rooms": [
                    {
                        "roomType": r.room_type.value,
                        "forNeed": r.need_type.value,
                        "occupants": r.occupants,
                        "accessible": r.accessible,
                        "nightlyRate": str(r.nightly_rate),
                    }
                    for r in a.rooms
                ],
                "roomCost": str(a.room_cost),
                "distanceKm": a.distance_km,
                "priority": a.priority,
            }
            for a in plan.assignments
        ],
        "unassigned": [
            {
                "groupId": u.group_id,
                "tier": u.tier.value,
                "passengers": u.passengers,
                "reason": u.reason,
            }
            for u in plan.unassigned
        ],
        "totals": {
            "groups": t.groups,
            "groupsAssigned": t.groups_assigned,
            "passengers": t.passengers,
            "passengersAssigned": t.passengers_assigned,
            "weightedDemand": t.weighted_demand,
            "weightedCoverage": t.weighted_coverage,
            "coverageRatio": round(t.coverage_ratio, 6),
            "roomCost": str(t.room_cost),
            "distanceCost": str(t.distance_cost),
            "fixedCost": str(t.fixed_cost),
            "totalCost": str(t.total_cost),
            "rooms": t.rooms,
            "hotelsUsed": t.hotels_used,
            "currency": t.currency,
        },
        "savingsVsMarket": None if t.savings_vs_market is None else str(t.savings_vs_market),
        "diagnostics": dict(plan.diagnostics),
    }


async def record_wave(
    store: OperationalStore,
    tenant: TenantContext,
    plan: AllocationPlan,
    *,
    case_urn: Urn,
    demand_urn: Urn,
    sequence: int,
    ids: IdGenerator,
    clock: Clock,
) -> AllocationWave:
    """Store the wave once; a retry with the same (case, demand, sequence) returns the
    wave stored the first time (its plan is not replaced)."""
    key = wave_key(case_urn, demand_urn, sequence)
    seen = await store.idempotency.lookup(tenant, "wave", key)
    if seen is not None:
        return await store.waves.get(tenant, Urn.parse(str(seen.result["wave_urn"])))
    wave = AllocationWave(
        urn=ids.new("wave"),
        airline_urn=tenant.airline_urn,
        case_urn=case_urn,
        demand_urn=demand_urn,
        sequence=sequence,
        plan={**plan_document(plan), "idempotencyKey": key},
        created_at=clock.now(),
    )
    async with store.transaction() as tx:
        stored = await tx.waves.add(tenant, wave)
        record = await tx.idempotency.remember(tenant, "wave", key, {"wave_urn": str(stored.urn)})
    if record.result["wave_urn"] != str(stored.urn):  # lost a race: the first one wins
        return await store.waves.get(tenant, Urn.parse(str(record.result["wave_urn"])))
    return stored
