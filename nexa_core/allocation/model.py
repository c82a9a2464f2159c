"""Values the allocation engine takes and returns (frozen attrs, no I/O)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import attrs

from nexa_core.errors import InvalidInputError
from nexa_core.model import PassengerGroup, RoomNeed, RoomType, SpecialNeed, Tier
from nexa_core.model.common import to_decimal
from nexa_core.urn import Urn

__all__ = [
    "AllocationOptions",
    "AllocationPlan",
    "AssignedRoom",
    "Assignment",
    "Candidate",
    "GroupDemand",
    "PlanTotals",
    "UnassignedGroup",
    "Violation",
]


@attrs.frozen
class GroupDemand:
    """One PNR group as allocation sees it: tier, head count, special needs, room needs.

    ``tiers`` lists every cabin present; more than one means a mixed-tier group, which is
    never assigned automatically (reason ``MIXED_TIER_GROUP``).
    """

    group_id: str
    tier: Tier
    passengers: int
    needs: tuple[RoomNeed, ...]
    special_needs: frozenset[SpecialNeed] = frozenset()
    tiers: frozenset[Tier] = frozenset()

    def __attrs_post_init__(self) -> None:
        if self.passengers <= 0:
            raise InvalidInputError(f"group {self.group_id} has no passengers", field="passengers")
        for need in self.needs:
            if need.group_id != self.group_id:
                raise InvalidInputError(
                    f"room need of group {need.group_id} listed under {self.group_id}",
                    field="needs",
                )

    @property
    def mixed_tier(self) -> bool:
        """Whether the group mixes cabins."""
        return len(self.tiers | {self.tier}) > 1

    @classmethod
    def from_group(cls, group: PassengerGroup, needs: tuple[RoomNeed, ...]) -> GroupDemand:
        """Build from a PNR group and the needs rooming produced for it."""
        special: frozenset[SpecialNeed] = frozenset().union(
            *(p.special_needs for p in group.passengers)
        )
        return cls(
            group_id=group.group_id,
            tier=group.tier,
            passengers=group.size,
            needs=tuple(n for n in needs if n.group_id == group.group_id),
            special_needs=special,
            tiers=group.tiers,
        )


@attrs.frozen
class AllocationOptions:
    """Knobs of the objective's second stage and of tier separation.

    ``distance_cost_per_passenger_km`` and ``fixed_cost_per_hotel`` are in the offers'
    currency. ``separate_tiers_by_hotel`` makes every hotel host at most one tier (groups
    never mix tiers in any case). ``nights`` defaults to each offer's own nights.
    """

    distance_cost_per_passenger_km: Decimal = attrs.field(
        default=Decimal("0.50"), converter=to_decimal
    )
    fixed_cost_per_hotel: Decimal = attrs.field(default=Decimal("150"), converter=to_decimal)
    separate_tiers_by_hotel: bool = False
    card_allowed: bool = False
    improve: bool = True


@attrs.frozen
class Candidate:
    """A hotel as ranked for one tier: its score and why it was filtered or chosen."""

    tier: Tier
    hotel_urn: Urn
    offer_urn: Urn
    name: str
    vendor: str
    distance_km: float
    cheapest_rate: Decimal | None
    eligible: bool
    score: float
    reason: str
    rank: int | None = None


@attrs.frozen
class AssignedRoom:
    """One room of an assignment: the need it serves and the room taken for it."""

    room_type: RoomType
    need_type: RoomType
    occupants: int
    accessible: bool
    nightly_rate: Decimal


@attrs.frozen
class Assignment:
    """A whole PNR group placed in one hotel."""

    group_id: str
    tier: Tier
    passengers: int
    hotel_urn: Urn
    offer_urn: Urn
    vendor: str
    rooms: tuple[AssignedRoom, ...]
    nights: int
    room_cost: Decimal
    distance_km: float
    priority: float

    @property
    def weight(self) -> float:
        """Priority × passengers (the coverage objective's term)."""
        return self.priority * self.passengers


@attrs.frozen
class UnassignedGroup:
    """A group left without a hotel, and why."""

    group_id: str
    tier: Tier
    passengers: int
    reason: str
    priority: float = 0.0


@attrs.frozen
class PlanTotals:
    """The plan's objective values and money totals (offers' currency)."""

    groups: int
    groups_assigned: int
    passengers: int
    passengers_assigned: int
    weighted_demand: float
    weighted_coverage: float
    room_cost: Decimal
    distance_cost: Decimal
    fixed_cost: Decimal
    total_cost: Decimal
    rooms: int
    hotels_used: int
    currency: str
    #: (market rate − paid rate) × rooms × nights over the offers stating a market rate
    #: (negative when bought above it); None when no chosen offer states one
    savings_vs_market: Decimal | None = None

    @property
    def coverage_ratio(self) -> float:
        """Weighted coverage as a share of weighted demand."""
        return self.weighted_coverage / self.weighted_demand if self.weighted_demand else 1.0


@attrs.frozen
class AllocationPlan:
    """What one allocation run decided: candidates, assignments, leftovers, totals."""

    airport: str
    candidates: tuple[Candidate, ...]
    assignments: tuple[Assignment, ...]
    unassigned: tuple[UnassignedGroup, ...]
    totals: PlanTotals
    solver: str
    options: AllocationOptions = AllocationOptions()
    diagnostics: Mapping[str, Any] = attrs.field(factory=dict)

    def assignment_for(self, group_id: str) -> Assignment | None:
        """The assignment of a group, if any."""
        for a in self.assignments:
            if a.group_id == group_id:
                return a
        return None


@attrs.frozen
class Violation:
    """A rule a plan breaks (the validator's finding)."""

    rule: str  # SPLIT_PNR, DUPLICATE_GROUP, CAPACITY, POLICY, TIER_SEPARATION, ROOM_FIT, ...
    message: str
    group_id: str | None = None
    hotel_urn: Urn | None = None
