"""The policy as domain values (attrs). Documents are validated at the edge
(``nexa_adapters.documents.policy``) and turned into these."""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from decimal import Decimal

import attrs

from nexa_core.errors import InvalidInputError
from nexa_core.model import DispatchMode, Money, PaymentMode, SpecialNeed, Tier, Vehicle
from nexa_core.model.common import to_decimal

__all__ = [
    "AllocationWeights",
    "Buffers",
    "DemandGates",
    "MealRules",
    "Policy",
    "PolicyContext",
    "RoomSharing",
    "TierConstraints",
    "TransportRules",
]


@attrs.frozen
class PolicyContext:
    """Where a policy applies: an airline, optionally narrowed to an airport or country."""

    airline: str | None = None  # airline code, e.g. "LAN" (None: global)
    airport: str | None = None  # IATA
    country: str | None = None  # ISO 3166-1 alpha-2


@attrs.frozen
class TierConstraints:
    """Gates a hotel must pass for a tier (gates, not scoring inputs)."""

    min_stars: int | None = None
    max_distance_km: float | None = None
    max_nightly_rate: Money | None = None
    required_amenities: frozenset[str] = frozenset()
    excluded_chains: frozenset[str] = frozenset()


@attrs.frozen
class Buffers:
    """Stay-plan buffers around the rebooked departure and the disruption."""

    early_check_in_minutes: int = 60
    late_checkout_minutes: int = 120


@attrs.frozen
class AllocationWeights:
    """Scorer weights (cost, distance, consolidation)."""

    cost: float = 0.60
    distance: float = 0.25
    consolidation: float = 0.15


@attrs.frozen
class DemandGates:
    """When demand is approved automatically."""

    auto_approve_demand: bool = False
    max_automatic_rooms_per_wave: int = 0
    incremental_requires_approval: bool = True

    def auto_approves(self, rooms: int, *, incremental: bool = False) -> bool:
        """Whether a demand for ``rooms`` goes straight to APPROVED.

        Auto-approval needs ``auto_approve_demand`` and ``rooms`` within
        ``max_automatic_rooms_per_wave``; incremental demand additionally needs
        ``incremental_requires_approval`` to be off.
        """
        if rooms < 0:
            raise InvalidInputError("rooms cannot be negative", field="rooms")
        if not self.auto_approve_demand or rooms > self.max_automatic_rooms_per_wave:
            return False
        return not (incremental and self.incremental_requires_approval)


@attrs.frozen
class TransportRules:
    """Ground transport per tier."""

    dispatch: Mapping[Tier, DispatchMode] = attrs.field(factory=dict)
    vehicle: Mapping[Tier, Vehicle] = attrs.field(factory=dict)
    shuttle_capacity: int = 24
    minutes_before_pickup: int = 45
    cost_ceiling: Mapping[Tier, Money] = attrs.field(factory=dict)
    vendor_pinning: Mapping[str, str] = attrs.field(factory=dict)  # route → vendor

    def dispatch_for(self, tier: Tier) -> DispatchMode:
        """Dispatch mode for a tier (higher tiers AUTOMATIC, others ON_DEMAND by default)."""
        default = (
            DispatchMode.AUTOMATIC
            if tier in (Tier.BUSINESS, Tier.FIRST, Tier.CREW)
            else DispatchMode.ON_DEMAND
        )
        return self.dispatch.get(tier, default)

    def vendor_for(self, origin: str, destination: str) -> str | None:
        """The vendor pinned for the route ``ORIGIN-DESTINATION`` (``*`` wildcards allowed,
        exact keys first, then the longest matching pattern); None when nothing is pinned."""
        route = f"{origin}-{destination}".upper()
        exact = {k.upper(): v for k, v in self.vendor_pinning.items()}
        if route in exact:
            return exact[route]
        hits = [k for k in exact if "*" in k and fnmatch.fnmatchcase(route, k)]
        return exact[max(hits, key=len)] if hits else None

    def vehicle_for(self, tier: Tier) -> Vehicle:
        """Vehicle for a tier (private car for BUSINESS/FIRST by default)."""
        default = Vehicle.PRIVATE_CAR if tier in (Tier.BUSINESS, Tier.FIRST) else Vehicle.SHUTTLE
        return self.vehicle.get(tier, default)


@attrs.frozen
class MealRules:
    """Prepaid meal allowance per tier."""

    allowance: Mapping[Tier, Decimal] = attrs.field(factory=dict)
    currency: str = "USD"
    schedule: str = "single"  # "single" load or "drops" (breakfast/lunch/dinner)
    drop_times: tuple[str, ...] = ("07:00", "12:00", "19:00")

    def allowance_for(self, tier: Tier) -> Money | None:
        """Allowance per passenger for a tier (None: no card)."""
        amount = self.allowance.get(tier)
        return None if amount is None else Money(to_decimal(amount), self.currency)


@attrs.frozen
class RoomSharing:
    """Rooming rules a policy may tighten."""

    one_room_per_adult_tiers: frozenset[Tier] = frozenset({Tier.BUSINESS, Tier.FIRST})
    crew_single_rooms: bool = True


@attrs.frozen
class Policy:
    """A policy version's content."""

    name: str
    context: PolicyContext
    tiers: frozenset[Tier]
    constraints: Mapping[Tier, TierConstraints] = attrs.field(factory=dict)
    buffers: Buffers = Buffers()
    weights: AllocationWeights = AllocationWeights()
    demand: DemandGates = DemandGates()
    accepted_payments: frozenset[PaymentMode] = frozenset({PaymentMode.GUARANTEE})
    transport: TransportRules = TransportRules()
    meals: MealRules = MealRules()
    room_sharing: RoomSharing = RoomSharing()
    priority: Mapping[Tier, float] = attrs.field(factory=dict)
    special_need_priority: Mapping[SpecialNeed, float] = attrs.field(factory=dict)
    regulations: frozenset[str] = frozenset()  # "EU261", "ANAC400", "APPR", "DOT"
    card_token: str | None = None

    def constraints_for(self, tier: Tier) -> TierConstraints:
        """The tier's constraints (empty when the policy sets none)."""
        return self.constraints.get(tier, TierConstraints())

    def priority_for(self, tier: Tier, needs: frozenset[SpecialNeed] = frozenset()) -> float:
        """Allocation priority of a passenger of ``tier`` with ``needs``."""
        default = {
            Tier.CREW: 3.0,
            Tier.FIRST: 2.5,
            Tier.BUSINESS: 2.0,
            Tier.PREMIUM_ECONOMY: 1.5,
            Tier.ECONOMY: 1.0,
        }
        base = self.priority.get(tier, default[tier])
        bonus = max((self.special_need_priority.get(n, 0.5) for n in needs), default=0.0)
        return base + bonus
