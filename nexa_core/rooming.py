"""Rooming math: the rooms one PNR group needs, by tier and passenger mix.

Rules (every one is checked by property tests in ``tests/unit/test_rooming.py``):

1. Rooms are planned per :class:`~nexa_core.model.PassengerGroup` (one PNR), so
   passengers of different PNRs never share a room.
2. Infants (``INF``) take no bed; each infant stays in a room with an adult of its PNR.
   Infants are spread over the rooms (one per adult first) and never raise the count.
3. Children (``CHD``) never room without an adult of their PNR: every room that holds a
   child (or any non-crew passenger) holds at least one adult.
4. Beds per room never exceed the room type's capacity (SGL 1, DBL/TWN 2, TRP 3, QUAD 4);
   the room type is the smallest that fits the occupants (DBL stands for "2 beds":
   :meth:`RoomNeed.fits` accepts TWN as well).
5. ``CREW`` passengers get one SGL room each (``policy.room_sharing.crew_single_rooms``).
6. Groups whose tier is in ``policy.room_sharing.one_room_per_adult_tiers`` (BUSINESS and
   FIRST by default) get one room per adult; children join an adult's room.
7. A passenger whose special needs call for it (WCHR, WCHS, WCHC, DPNA) makes the room
   accessible; such passengers are packed into as few rooms as possible.
8. Within those rules the number of rooms is minimal: ``crew + adults`` for one-room-per-adult
   groups, else ``crew + ceil((adults + children) / 4)``, with the occupants spread evenly
   (5 people → TRP + DBL rather than QUAD + SGL).

A group that cannot satisfy rule 3 (children but no adult, or more than three children per
adult) raises :class:`~nexa_core.errors.InvalidInputError`: unaccompanied minors need a
person to decide (the caller opens a review item).

The group's tier (:attr:`PassengerGroup.tier` of its non-crew passengers) is the tier of
each of its non-crew rooms: a PNR is never split across hotels, so one tier governs.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from nexa_core.errors import InvalidInputError
from nexa_core.model import PassengerGroup, PassengerRef, PassengerType, RoomNeed, RoomType, Tier
from nexa_core.policy.model import Policy, RoomSharing

__all__ = ["MAX_BEDS_PER_ROOM", "minimal_room_count", "plan_rooms", "room_type_for"]

#: the largest room type (QUAD) takes four beds
MAX_BEDS_PER_ROOM = 4

_BY_BEDS = {1: RoomType.SGL, 2: RoomType.DBL, 3: RoomType.TRP, 4: RoomType.QUAD}
_TIER_ORDER = list(Tier)


def room_type_for(beds: int) -> RoomType:
    """The smallest room type with at least ``beds`` beds (1–4)."""
    try:
        return _BY_BEDS[beds]
    except KeyError:
        raise InvalidInputError(
            f"no room type takes {beds} beds (1 to {MAX_BEDS_PER_ROOM})", field="beds"
        ) from None


def _split(group: PassengerGroup, sharing: RoomSharing) -> tuple[list[PassengerRef], ...]:
    crew: list[PassengerRef] = []
    adults: list[PassengerRef] = []
    children: list[PassengerRef] = []
    infants: list[PassengerRef] = []
    for p in group.passengers:
        if p.type is PassengerType.INF:
            infants.append(p)
        elif p.cabin is Tier.CREW and sharing.crew_single_rooms and p.type is PassengerType.ADT:
            crew.append(p)
        elif p.type is PassengerType.ADT:
            adults.append(p)
        else:
            children.append(p)
    return crew, adults, children, infants


def _guest_tier(group: PassengerGroup, guests: Sequence[PassengerRef]) -> Tier:
    tiers = [p.cabin for p in guests]
    return max(tiers, key=_TIER_ORDER.index) if tiers else group.tier


def minimal_room_count(group: PassengerGroup, policy: Policy) -> int:
    """The number of rooms :func:`plan_rooms` returns (the rules' minimum)."""
    crew, adults, children, infants = _split(group, policy.room_sharing)
    _check_feasible(group, adults, children, infants)
    if not adults:
        return len(crew)
    tier = _guest_tier(group, adults + children)
    if tier in policy.room_sharing.one_room_per_adult_tiers:
        return len(crew) + len(adults)
    return len(crew) + math.ceil((len(adults) + len(children)) / MAX_BEDS_PER_ROOM)


def _check_feasible(
    group: PassengerGroup,
    adults: Sequence[PassengerRef],
    children: Sequence[PassengerRef],
    infants: Sequence[PassengerRef],
) -> None:
    if (children or infants) and not adults:
        raise InvalidInputError(
            f"group {group.group_id} has children or infants but no adult of the PNR; "
            "unaccompanied minors need manual handling",
            field="passengers",
            group_id=group.group_id,
        )
    if len(children) > (MAX_BEDS_PER_ROOM - 1) * len(adults):
        raise InvalidInputError(
            f"group {group.group_id} has {len(children)} children for {len(adults)} adults; "
            f"a room holds at most {MAX_BEDS_PER_ROOM - 1} children with an adult",
            field="passengers",
            group_id=group.group_id,
        )


def plan_rooms(group: PassengerGroup, policy: Policy) -> list[RoomNeed]:
    """The room needs of one PNR group under ``policy`` (rules in the module docstring).

    Crew rooms come first, then guest rooms with accessible ones first. Raises
    :class:`InvalidInputError` for groups that cannot room legally (children without adult).
    """
    crew, adults, children, infants = _split(group, policy.room_sharing)
    _check_feasible(group, adults, children, infants)
    needs: list[RoomNeed] = [
        RoomNeed(
            group_id=group.group_id,
            tier=Tier.CREW,
            room_type=RoomType.SGL,
            occupants=1,
            accessible=p.needs_accessible_room,
            passenger_urns=(p.urn,),
        )
        for p in crew
    ]
    if not adults:
        return needs
    tier = _guest_tier(group, adults + children)
    beds = len(adults) + len(children)
    if tier in policy.room_sharing.one_room_per_adult_tiers:
        rooms = len(adults)
    else:
        rooms = math.ceil(beds / MAX_BEDS_PER_ROOM)
    sizes = [beds // rooms + (1 if i < beds % rooms else 0) for i in range(rooms)]

    # accessible-needing people first, so they share as few rooms as possible
    def order(ps: list[PassengerRef]) -> list[PassengerRef]:
        return sorted(ps, key=lambda p: not p.needs_accessible_room)

    free_adults = order(adults)
    free_children = order(children)
    members: list[list[PassengerRef]] = []
    for i, size in enumerate(sizes):
        rooms_after = rooms - i - 1
        room = [free_adults.pop(0)]  # every room holds at least one adult
        while len(room) < size:
            sources = [s for s in (free_children, free_adults) if s]
            if len(free_adults) <= rooms_after:  # the rest are reserved for later rooms
                sources = [s for s in sources if s is not free_adults]
            # an accessible person first, then children (they stay with this room's adult)
            source = min(sources, key=lambda s: not s[0].needs_accessible_room)
            room.append(source.pop(0))
        members.append(room)

    # infants: with an adult, accessible infants first, to the room with fewest infants per adult
    lap: list[list[PassengerRef]] = [[] for _ in members]
    for inf in order(infants):
        best = min(
            range(len(members)),
            key=lambda i: (
                (not any(p.needs_accessible_room for p in members[i]))
                and inf.needs_accessible_room,
                len(lap[i]) / sum(1 for p in members[i] if p.type is PassengerType.ADT),
                i,
            ),
        )
        lap[best].append(inf)

    guest_needs = [
        RoomNeed(
            group_id=group.group_id,
            tier=tier,
            room_type=room_type_for(len(room)),
            occupants=len(room),
            infants=len(babies),
            accessible=any(p.needs_accessible_room for p in room + babies),
            passenger_urns=tuple(p.urn for p in room + babies),
        )
        for room, babies in zip(members, lap, strict=True)
    ]
    guest_needs.sort(key=lambda n: not n.accessible)
    return needs + guest_needs
