"""Great-circle geometry (haversine) on the mean Earth sphere."""

from __future__ import annotations

import math

from nexa_core.errors import InvalidInputError

__all__ = ["EARTH_RADIUS_KM", "haversine_km"]

#: IUGG mean Earth radius (km); the usual sphere for great-circle distances
EARTH_RADIUS_KM = 6371.0088


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in km between two points given in decimal degrees.

    >>> round(haversine_km(0.0, 0.0, 0.0, 1.0), 3)
    111.195
    """
    for lat in (lat1, lat2):
        if not -90.0 <= lat <= 90.0:
            raise InvalidInputError(f"latitude {lat} is outside [-90, 90]", field="latitude")
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp = p2 - p1
    dl = math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))
