"""Deterministic synthetic hotel inventory around a real airport."""

from __future__ import annotations

import math
import random
from datetime import date
from decimal import Decimal
from functools import lru_cache

import attrs

from nexa_core.model import BoardBasis, PaymentMode, RoomType
from nexa_core.model.case import Airport

__all__ = ["SyntheticHotel", "airport", "synthetic_hotels"]

_CHAINS = ("AURORA", "BUDGETCHAIN", "CONDOR", "PACIFICO", "ANDES", "HORIZON", None, None)
_AMENITIES = (
    "24H_RECEPTION",
    "AIRPORT_SHUTTLE",
    "FREE_BREAKFAST",
    "WHEELCHAIR_ACCESSIBLE",
    "RESTAURANT",
    "WIFI",
)
_STREETS = ("Av. Central", "Calle Norte", "Ruta Aeropuerto", "Av. del Parque", "Camino Real")


def airport(iata: str) -> Airport:
    """Catalog lookup for the sandbox (delegates to the airportsdata-backed catalog)."""
    from nexa_adapters.airports import default_catalog

    return default_catalog().get(iata)


@attrs.frozen
class SyntheticHotel:
    """One made-up hotel with rooms per type."""

    index: int
    hotel_id: str
    name: str
    address: str
    latitude: float
    longitude: float
    stars: int
    chain: str | None
    amenities: frozenset[str]
    rooms: tuple[tuple[RoomType, int, Decimal, bool], ...]
    board_basis: BoardBasis
    accepted_payments: frozenset[PaymentMode]
    phone: str


def _offset(lat: float, lon: float, km: float, bearing: float) -> tuple[float, float]:
    dlat = km / 111.32 * math.cos(bearing)
    dlon = km / (111.32 * max(0.1, math.cos(math.radians(lat)))) * math.sin(bearing)
    return round(lat + dlat, 6), round(lon + dlon, 6)


@lru_cache(maxsize=64)
def synthetic_hotels(
    iata: str, vendor: str, seed: int = 7, count: int = 40, rooms_scale: float = 1.0
) -> tuple[SyntheticHotel, ...]:
    """``count`` hotels within ~25 km of the airport, the same for the same arguments."""
    ap = airport(iata)
    rng = random.Random(f"{seed}:{iata}:{vendor}")
    hotels = []
    for i in range(count):
        km = rng.uniform(0.5, 25.0)
        lat, lon = _offset(ap.latitude, ap.longitude, km, rng.uniform(0, 2 * math.pi))
        stars = rng.choice((2, 3, 3, 3, 4, 4, 5))
        base = Decimal(40 + stars * 25 + rng.randint(0, 30))
        amen = frozenset(a for a in _AMENITIES if rng.random() < 0.35 + 0.1 * stars)
        accessible = "WHEELCHAIR_ACCESSIBLE" in amen
        scale = max(0.1, rooms_scale)
        rooms = (
            (RoomType.SGL, int(rng.randint(0, 12) * scale), base, False),
            (
                RoomType.DBL,
                int(rng.randint(4, 30) * scale),
                (base * Decimal("1.2")).quantize(Decimal("1")),
                accessible,
            ),
            (
                RoomType.TWN,
                int(rng.randint(0, 20) * scale),
                (base * Decimal("1.2")).quantize(Decimal("1")),
                False,
            ),
            (
                RoomType.TRP,
                int(rng.randint(0, 6) * scale),
                (base * Decimal("1.5")).quantize(Decimal("1")),
                False,
            ),
            (
                RoomType.QUAD,
                int(rng.randint(0, 4) * scale),
                (base * Decimal("1.8")).quantize(Decimal("1")),
                False,
            ),
        )
        payments = (
            {PaymentMode.GUARANTEE, PaymentMode.CARD} if rng.random() < 0.8 else {PaymentMode.CARD}
        )
        chain = rng.choice(_CHAINS)
        hotels.append(
            SyntheticHotel(
                index=i,
                hotel_id=f"{iata}{vendor[:2].upper()}{i:03d}",
                name=f"{(chain or 'Hotel').title()} {iata} {rng.choice(('Airport', 'Centro', 'Plaza', 'Park', 'Express'))} {i}",
                address=f"{rng.choice(_STREETS)} {rng.randint(10, 9999)}, {ap.country}",
                latitude=lat,
                longitude=lon,
                stars=stars,
                chain=chain,
                amenities=amen,
                rooms=rooms,
                board_basis=rng.choice(
                    (BoardBasis.RO, BoardBasis.BB, BoardBasis.BB, BoardBasis.HB)
                ),
                accepted_payments=frozenset(payments),
                phone=f"+56{rng.randint(200000000, 999999999)}",
            )
        )
    return tuple(hotels)


def nights(check_in: date, check_out: date) -> int:
    """Nights between two dates (at least one)."""
    return max(1, (check_out - check_in).days)
