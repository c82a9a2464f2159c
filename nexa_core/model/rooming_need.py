"""What rooming produces and allocation consumes: one room a PNR group needs."""

from __future__ import annotations

import attrs

from nexa_core.model.common import Tier
from nexa_core.model.hotel import RoomType
from nexa_core.urn import Urn

__all__ = ["RoomNeed"]


@attrs.frozen
class RoomNeed:
    """One room for part of one PNR group.

    ``occupants`` counts people who take a bed (infants do not); ``room_type`` is the
    smallest type that fits them — a bigger room may serve the need.
    """

    group_id: str
    tier: Tier
    room_type: RoomType
    occupants: int
    infants: int = 0
    accessible: bool = False
    passenger_urns: tuple[Urn, ...] = ()

    def fits(self, offered: RoomType) -> bool:
        """Whether a room of type ``offered`` can serve this need."""
        return offered.capacity >= self.occupants
