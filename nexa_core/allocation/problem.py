"""The assignment problem in solver form: hotels, room classes and group *types*.

Groups with the same tier, priority, head count and room-need signature are
interchangeable (same weight, same cost at every hotel), so solvers work on types with a
multiplicity. That keeps the exact model small at any passenger count and lets the default
heuristic place many identical groups at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Protocol

import attrs

from nexa_core.model import HotelOffer, RoomType, Tier

__all__ = [
    "AllocationProblem",
    "GroupType",
    "HotelNode",
    "NeedSpec",
    "Placement",
    "RoomClass",
    "Solver",
    "SolverResult",
]


@attrs.frozen
class RoomClass:
    """Rooms of one type and accessibility at one hotel (a capacity-limited resource)."""

    index: int
    hotel: int
    room_type: RoomType
    capacity: int
    accessible: bool
    rate: float
    count: int
    price: Decimal = Decimal(0)  # the exact nightly rate (``rate`` is its float for speed)


@attrs.frozen
class HotelNode:
    """A deduplicated hotel offer with its distance, nights and room classes."""

    index: int
    offer: HotelOffer
    distance_km: float
    nights: int
    classes: tuple[int, ...]


@attrs.frozen
class NeedSpec:
    """A room need reduced to what fitting uses."""

    occupants: int
    accessible: bool
    room_type: RoomType


@attrs.frozen
class GroupType:
    """Interchangeable groups: same tier, priority, size and needs."""

    index: int
    tier: Tier
    priority: float
    passengers: int
    needs: tuple[NeedSpec, ...]  # accessible first, then by occupants descending
    group_ids: tuple[str, ...]
    hotels: tuple[int, ...]  # eligible hotels (tier gates passed)

    @property
    def weight(self) -> float:
        """Priority × passengers of one group."""
        return self.priority * self.passengers

    @property
    def count(self) -> int:
        """How many groups share this type."""
        return len(self.group_ids)


@attrs.frozen
class AllocationProblem:
    """Everything a solver needs; costs in the offers' currency as floats."""

    hotels: tuple[HotelNode, ...]
    classes: tuple[RoomClass, ...]
    types: tuple[GroupType, ...]
    rate_caps: tuple[tuple[Tier, float | None], ...]
    distance_cost: float  # per passenger-km
    fixed_cost: float  # per hotel used
    separate_tiers_by_hotel: bool = False

    def rate_cap(self, tier: Tier) -> float | None:
        """The tier's nightly-rate cap."""
        for t, cap in self.rate_caps:
            if t is tier:
                return cap
        return None

    def usable(self, t: GroupType, need: NeedSpec, rc: RoomClass) -> bool:
        """Whether room class ``rc`` may serve ``need`` of a group of type ``t``."""
        if rc.capacity < need.occupants or (need.accessible and not rc.accessible):
            return False
        cap = self.rate_cap(t.tier)
        return cap is None or rc.rate <= cap + 1e-9

    def copy_cost(self, t: GroupType, hotel: int, rooms: Sequence[int]) -> float:
        """Room and distance cost of one group of type ``t`` at ``hotel`` in ``rooms``."""
        h = self.hotels[hotel]
        room = h.nights * sum(self.classes[r].rate for r in rooms)
        return room + self.distance_cost * t.passengers * h.distance_km


@attrs.frozen
class Placement:
    """``count`` groups of type ``type`` at ``hotel``, each in room classes ``rooms``
    (aligned with the type's needs)."""

    type: int
    hotel: int
    rooms: tuple[int, ...]
    count: int = 1


@attrs.frozen
class SolverResult:
    """A solver's placements with its objective values and, if known, a bound."""

    solver: str
    placements: tuple[Placement, ...]
    coverage: float
    cost: float
    optimal: bool = False
    coverage_bound: float | None = None
    status: str = "ok"
    wall_s: float = 0.0


class Solver(Protocol):
    """Solves an :class:`AllocationProblem` lexicographically: maximise the weighted
    coverage, then minimise the cost at that coverage. Pure and synchronous."""

    name: str

    def solve(
        self, problem: AllocationProblem, *, time_limit_s: float | None = None
    ) -> SolverResult:
        """Placements that respect capacity, eligibility and (if set) tier separation."""
        ...
