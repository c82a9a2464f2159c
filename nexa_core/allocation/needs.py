"""A basic rooming fallback: room needs for a PNR group when no rooming plan is given.

The full rooming engine lives in :mod:`nexa_core.rooming`; this keeps allocation usable
on its own (CLI, tests). Rules: tiers in ``policy.room_sharing.one_room_per_adult_tiers``
and crew (when ``crew_single_rooms``) get one single per bed-taking passenger; everyone
else is packed into as few rooms as possible (rooms of up to four). Infants take no bed.
Passengers needing an accessible room share the group's first room, which is accessible.
"""

from __future__ import annotations

from nexa_core.model import PassengerGroup, PassengerType, RoomNeed, RoomType, Tier
from nexa_core.policy import Policy

__all__ = ["basic_room_needs", "split_sizes"]

_BY_OCCUPANTS = {1: RoomType.SGL, 2: RoomType.DBL, 3: RoomType.TRP, 4: RoomType.QUAD}


def split_sizes(beds: int) -> list[int]:
    """Room sizes (occupants) for ``beds`` people in as few, balanced rooms as possible."""
    if beds <= 0:
        return []
    rooms = -(-beds // 4)
    base, extra = divmod(beds, rooms)
    return [base + 1] * extra + [base] * (rooms - extra)


def basic_room_needs(group: PassengerGroup, policy: Policy) -> tuple[RoomNeed, ...]:
    """Room needs for ``group`` under ``policy``'s room-sharing rules."""
    tier = group.tier
    beds = [p for p in group.passengers if p.type is not PassengerType.INF]
    infants = len(group.passengers) - len(beds)
    accessible = any(p.needs_accessible_room for p in group.passengers)
    sharing = policy.room_sharing
    singles = tier in sharing.one_room_per_adult_tiers or (
        tier is Tier.CREW and sharing.crew_single_rooms
    )
    sizes = [1] * len(beds) if singles else split_sizes(len(beds))
    if not sizes:  # infants only: one room for them
        sizes = [1]
    needs = []
    cursor = 0
    for i, size in enumerate(sizes):
        urns = tuple(p.urn for p in beds[cursor : cursor + size])
        cursor += size
        needs.append(
            RoomNeed(
                group_id=group.group_id,
                tier=tier,
                room_type=_BY_OCCUPANTS[size],
                occupants=size,
                infants=infants if i == 0 else 0,
                accessible=accessible and i == 0,
                passenger_urns=urns,
            )
        )
    return tuple(needs)
