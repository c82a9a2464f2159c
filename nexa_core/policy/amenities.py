"""The normalized amenity tag set hotels are filtered by (gates, not scoring inputs)."""

from __future__ import annotations

import re
from collections.abc import Mapping

from nexa_core.errors import InvalidInputError

__all__ = ["AMENITY_ALIASES", "AMENITY_TAGS", "normalize_amenity"]

#: every tag a policy may require and an offer may carry
AMENITY_TAGS: frozenset[str] = frozenset(
    {
        "24H_RECEPTION",
        "AIRPORT_SHUTTLE",
        "AIR_CONDITIONING",
        "BUSINESS_CENTER",
        "CONNECTING_ROOMS",
        "CRIB_AVAILABLE",
        "FITNESS_CENTER",
        "FREE_BREAKFAST",
        "LAUNDRY",
        "PARKING",
        "PET_FRIENDLY",
        "POOL",
        "RESTAURANT",
        "ROOM_SERVICE",
        "SOUNDPROOF_ROOMS",
        "WHEELCHAIR_ACCESSIBLE",
        "WIFI",
    }
)

#: common spellings (normalized to UPPER_SNAKE first) → tag
AMENITY_ALIASES: Mapping[str, str] = {
    "24_HOUR_RECEPTION": "24H_RECEPTION",
    "24H_FRONT_DESK": "24H_RECEPTION",
    "24_HOUR_FRONT_DESK": "24H_RECEPTION",
    "SHUTTLE": "AIRPORT_SHUTTLE",
    "AIRPORT_TRANSFER": "AIRPORT_SHUTTLE",
    "BREAKFAST": "FREE_BREAKFAST",
    "BREAKFAST_INCLUDED": "FREE_BREAKFAST",
    "ACCESSIBLE": "WHEELCHAIR_ACCESSIBLE",
    "ACCESSIBLE_ROOMS": "WHEELCHAIR_ACCESSIBLE",
    "WHEELCHAIR": "WHEELCHAIR_ACCESSIBLE",
    "WI_FI": "WIFI",
    "FREE_WIFI": "WIFI",
    "INTERNET": "WIFI",
    "GYM": "FITNESS_CENTER",
    "AC": "AIR_CONDITIONING",
    "CRIB": "CRIB_AVAILABLE",
    "COT": "CRIB_AVAILABLE",
}


def normalize_amenity(value: str) -> str:
    """The tag for ``value`` (case, spaces, dashes and known aliases are forgiven).

    Raises :class:`InvalidInputError` for anything outside :data:`AMENITY_TAGS`.
    """
    key = re.sub(r"[^A-Z0-9]+", "_", value.strip().upper()).strip("_")
    key = AMENITY_ALIASES.get(key, key)
    if key not in AMENITY_TAGS:
        raise InvalidInputError(
            f"unknown amenity {value!r}; known tags: {', '.join(sorted(AMENITY_TAGS))}",
            field="amenity",
        )
    return key
