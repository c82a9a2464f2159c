"""Synthetic hub closures for allocation tests and benchmarks (deterministic per seed).

Groups get PNR sizes 1–9, all five tiers and ~2% special needs; hotels get scarce,
mixed inventory (some accessible rooms, some card-only, some excluded chains), so every
policy gate and the "bigger room serves a smaller need" rule are exercised.
"""

from __future__ import annotations

import math
import random
from datetime import date
from decimal import Decimal

import attrs

from nexa_core.allocation.model import GroupDemand
from nexa_core.model import (
    HotelOffer,
    Money,
    PaymentMode,
    RoomNeed,
    RoomOffer,
    RoomType,
    SpecialNeed,
    Tier,
)
from nexa_core.model.case import Airport
from nexa_core.policy import Policy, PolicyContext, TierConstraints
from nexa_core.urn import Urn

__all__ = ["Closure", "closure_policy", "split_sizes", "synthetic_closure"]

_BY_OCC = {1: RoomType.SGL, 2: RoomType.DBL, 3: RoomType.TRP, 4: RoomType.QUAD}
_TIERS = (
    (Tier.ECONOMY, 0.74),
    (Tier.PREMIUM_ECONOMY, 0.09),
    (Tier.BUSINESS, 0.09),
    (Tier.FIRST, 0.02),
    (Tier.CREW, 0.06),
)
_SIZES = (1, 2, 3, 4, 5, 6, 7, 8, 9)
_SIZE_W = (34, 26, 13, 10, 6, 4, 3, 2, 2)
_NEEDS = (SpecialNeed.WCHR, SpecialNeed.WCHC, SpecialNeed.PREG, SpecialNeed.UMNR, SpecialNeed.MEDA)
_CHAINS = ("Accor", "Hilton", "Marriott", "IHG", "Wyndham", "Budget Inns", None)


@attrs.frozen
class Closure:
    """One synthetic hub closure."""

    airport: Airport
    groups: tuple[GroupDemand, ...]
    offers: tuple[HotelOffer, ...]
    policy: Policy
    nights: int = 1


def closure_policy(currency: str = "USD") -> Policy:
    """A policy with gates on every tier."""
    return Policy(
        name="bench",
        context=PolicyContext(airline="LAN", airport="SCL"),
        tiers=frozenset(Tier),
        constraints={
            Tier.ECONOMY: TierConstraints(
                max_distance_km=35,
                max_nightly_rate=Money("175", currency),
                excluded_chains=frozenset({"Budget Inns"}),
            ),
            Tier.PREMIUM_ECONOMY: TierConstraints(
                min_stars=3, max_distance_km=30, max_nightly_rate=Money("190", currency)
            ),
            Tier.BUSINESS: TierConstraints(min_stars=4, max_distance_km=25),
            Tier.FIRST: TierConstraints(
                min_stars=4,
                max_distance_km=25,
                required_amenities=frozenset({"WIFI", "FITNESS_CENTER"}),
            ),
            Tier.CREW: TierConstraints(
                min_stars=3, max_distance_km=20, required_amenities=frozenset({"WIFI"})
            ),
        },
    )


def split_sizes(beds: int) -> list[int]:
    """Room sizes (occupants) for ``beds`` people in as few, balanced rooms as possible."""
    if beds <= 0:
        return []
    rooms = -(-beds // 4)
    base, extra = divmod(beds, rooms)
    return [base + 1] * extra + [base] * (rooms - extra)


def _needs(
    rng: random.Random, gid: str, tier: Tier, size: int
) -> tuple[int, tuple[RoomNeed, ...], frozenset[SpecialNeed]]:
    infants = (
        sum(1 for _ in range(size - 1) if rng.random() < 0.05)
        if size > 1 and tier is Tier.ECONOMY
        else 0
    )
    beds = size - infants
    special: set[SpecialNeed] = set()
    for _ in range(size):
        if rng.random() < 0.02:
            special.add(rng.choice(_NEEDS))
    accessible = any(n.needs_accessible_room for n in special)
    sizes = [1] * beds if tier in (Tier.BUSINESS, Tier.FIRST, Tier.CREW) else split_sizes(beds)
    needs = tuple(
        RoomNeed(gid, tier, _BY_OCC[s], s, infants if i == 0 else 0, accessible and i == 0)
        for i, s in enumerate(sizes)
    )
    return size, needs, frozenset(special)


def synthetic_closure(
    passengers: int, *, hotels: int = 250, seed: int = 1, scarcity: float = 0.9
) -> Closure:
    """A closure of about ``passengers`` passengers over ``hotels`` hotels whose beds cover
    roughly ``scarcity`` of the demand."""
    rng = random.Random(seed)
    airport = Airport(Urn("airport", "SCL"), "Santiago", -33.393, -70.785, "America/Santiago", "CL")
    groups: list[GroupDemand] = []
    total = 0
    i = 0
    tiers = [t for t, _ in _TIERS]
    tw = [w for _, w in _TIERS]
    beds_needed = 0
    while total < passengers:
        tier = rng.choices(tiers, tw)[0]
        size = min(rng.choices(_SIZES, _SIZE_W)[0], passengers - total)
        if tier is Tier.CREW:
            size = min(size, 4)
        gid = f"G{i:06d}"
        pax, needs, special = _needs(rng, gid, tier, size)
        groups.append(GroupDemand(gid, tier, pax, needs, special, frozenset({tier})))
        beds_needed += sum(n.room_type.capacity for n in needs)
        total += size
        i += 1
    # inventory: beds ≈ scarcity × needed beds, split over hotels
    day = date(2026, 5, 5)
    offers = []
    bed_budget = beds_needed * scarcity
    shares = [rng.uniform(0.3, 1.7) for _ in range(hotels)]
    norm = sum(shares)
    for h in range(hotels):
        stars = rng.choices((2, 3, 4, 5), (2, 4, 3, 1))[0]
        km = rng.uniform(1.5, 40.0)
        ang = rng.uniform(0, 2 * math.pi)
        lat = airport.latitude + (km / 111.0) * math.cos(ang)
        lon = airport.longitude + (
            km / (111.0 * math.cos(math.radians(airport.latitude)))
        ) * math.sin(ang)
        beds = max(4, int(bed_budget * shares[h] / norm))
        base = Decimal(40 + 30 * stars + rng.randint(-15, 25))
        mix = {
            RoomType.SGL: 0.18,
            RoomType.DBL: 0.34,
            RoomType.TWN: 0.18,
            RoomType.TRP: 0.16,
            RoomType.QUAD: 0.14,
        }
        rooms = []
        for rt, share in mix.items():
            n = int(beds * share / rt.capacity + rng.random())
            if n:
                factor = {1: Decimal("0.85"), 2: Decimal(1), 3: Decimal("1.25"), 4: Decimal("1.5")}[
                    rt.capacity
                ]
                rooms.append(RoomOffer(rt, n, (base * factor).quantize(Decimal(1)), False))
        if rng.random() < 0.7:  # accessible rooms: about 2-3 % of beds
            rooms.append(
                RoomOffer(RoomType.DBL, max(1, int(beds * 0.012 + rng.random())), base, True)
            )
        if rng.random() < 0.3:
            rooms.append(
                RoomOffer(
                    RoomType.QUAD,
                    max(1, int(beds * 0.003 + rng.random())),
                    (base * Decimal("1.5")).quantize(Decimal(1)),
                    True,
                )
            )
        amenities = frozenset(
            a
            for a in ("WIFI", "FITNESS_CENTER", "FREE_BREAKFAST", "AIRPORT_SHUTTLE")
            if rng.random() < 0.3 + 0.15 * stars
        )
        pay = (
            frozenset({PaymentMode.CARD})
            if rng.random() < 0.05
            else frozenset({PaymentMode.GUARANTEE, PaymentMode.CARD})
        )
        offers.append(
            HotelOffer(
                urn=Urn("offer", f"bench-{h:04d}"),
                hotel_urn=Urn("hotel", f"h{h:04d}", "sandbox"),
                name=f"Hotel {h:04d}",
                address=f"{h} Bench Street",
                latitude=lat,
                longitude=lon,
                stars=stars,
                rooms=tuple(rooms),
                currency="USD",
                check_in=day,
                check_out=date(2026, 5, 6),
                amenities=amenities,
                chain=rng.choice(_CHAINS),
                accepted_payments=pay,
            )
        )
    return Closure(airport, tuple(groups), tuple(offers), closure_policy())
