"""Small hand-made instances for allocation tests."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from nexa_core.allocation import GroupDemand
from nexa_core.model import (
    HotelOffer,
    PaymentMode,
    RoomNeed,
    RoomOffer,
    RoomType,
    SpecialNeed,
    Tier,
)
from nexa_core.model.case import Airport
from nexa_core.policy import Policy, PolicyContext
from nexa_core.urn import Urn

AIRPORT = Airport(Urn("airport", "SCL"), "Santiago", -33.393, -70.785, "America/Santiago", "CL")
POLICY = Policy("t", PolicyContext(airline="LAN"), frozenset(Tier))
_SIZE = {1: RoomType.SGL, 2: RoomType.DBL, 3: RoomType.TRP, 4: RoomType.QUAD}


def offer(
    hid: str,
    rooms: list[tuple[RoomType, int, str]] | list[tuple[RoomType, int, str, bool]],
    *,
    km: float = 5.0,
    stars: int = 3,
    vendor: str = "sandbox",
    amenities: frozenset[str] = frozenset(),
    chain: str | None = None,
    payments: frozenset[PaymentMode] = frozenset({PaymentMode.GUARANTEE}),
    market: str | None = None,
) -> HotelOffer:
    """An offer ``km`` north of the airport."""
    return HotelOffer(
        urn=Urn("offer", f"of-{hid}"),
        hotel_urn=Urn("hotel", hid, vendor),
        name=f"Hotel {hid}",
        address=f"{hid} Street",
        latitude=AIRPORT.latitude + km / 111.2,
        longitude=AIRPORT.longitude,
        stars=stars,
        rooms=tuple(
            RoomOffer(r[0], r[1], Decimal(r[2]), r[3] if len(r) > 3 else False)  # type: ignore[misc]
            for r in rooms
        ),
        currency="USD",
        check_in=date(2026, 5, 5),
        check_out=date(2026, 5, 6),
        amenities=amenities,
        chain=chain,
        accepted_payments=payments,
        market_rate=None if market is None else Decimal(market),
    )


def group(
    gid: str,
    sizes: list[int],
    *,
    tier: Tier = Tier.ECONOMY,
    accessible: bool = False,
    infants: int = 0,
    needs: frozenset[SpecialNeed] = frozenset(),
    tiers: frozenset[Tier] | None = None,
) -> GroupDemand:
    """A group with one room need per entry of ``sizes`` (occupants)."""
    room_needs = tuple(
        RoomNeed(gid, tier, _SIZE[s], s, infants if i == 0 else 0, accessible and i == 0)
        for i, s in enumerate(sizes)
    )
    if accessible and not needs:
        needs = frozenset({SpecialNeed.WCHR})
    return GroupDemand(
        gid,
        tier,
        sum(sizes) + infants,
        room_needs,
        needs,
        tiers if tiers is not None else frozenset({tier}),
    )
