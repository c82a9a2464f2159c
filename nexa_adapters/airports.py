"""The airport catalog backed by the maintained ``airportsdata`` package.

IATA lookup with coordinates, IANA time zone, ISO country and a default passenger language
by country; great-circle distances by haversine. The data set is loaded lazily, once per
process (about 7,800 IATA airports).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from nexa_core.errors import UnknownAirportError
from nexa_core.geo import haversine_km
from nexa_core.model import Airport
from nexa_core.urn import Urn

__all__ = ["COUNTRY_LANGUAGES", "AirportsDataCatalog", "default_catalog", "language_for_country"]

#: default passenger-facing language by ISO country (anything else: English)
COUNTRY_LANGUAGES: Mapping[str, str] = {
    **dict.fromkeys(
        [
            "AR",
            "BO",
            "CL",
            "CO",
            "CR",
            "CU",
            "DO",
            "EC",
            "ES",
            "GQ",
            "GT",
            "HN",
            "MX",
            "NI",
            "PA",
            "PE",
            "PR",
            "PY",
            "SV",
            "UY",
            "VE",
        ],
        "es",
    ),
    **dict.fromkeys(["BR", "PT", "AO", "MZ", "CV", "GW", "ST", "TL"], "pt"),
    **dict.fromkeys(
        ["FR", "MC", "SN", "CI", "ML", "BF", "NE", "TG", "BJ", "GA", "CG", "CD", "CM", "MG", "HT"],
        "fr",
    ),
    **dict.fromkeys(["DE", "AT", "LI"], "de"),
    "IT": "it",
    "SM": "it",
    "NL": "nl",
    "BE": "nl",
    "JP": "ja",
    "KR": "ko",
    "CN": "zh",
    "TW": "zh",
    "RU": "ru",
    "TR": "tr",
    "PL": "pl",
    "SE": "sv",
    "NO": "no",
    "DK": "da",
    "FI": "fi",
    "GR": "el",
    "IL": "he",
    **dict.fromkeys(["SA", "AE", "EG", "JO", "KW", "QA", "BH", "OM", "MA", "DZ", "TN", "LB"], "ar"),
}


def language_for_country(country: str) -> str:
    """The default passenger language for an ISO 3166-1 alpha-2 country (``en`` fallback)."""
    return COUNTRY_LANGUAGES.get(country.upper(), "en")


class AirportsDataCatalog:
    """:class:`~nexa_core.ports.AirportCatalog` over ``airportsdata`` (IATA table)."""

    def __init__(self, rows: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        self._rows = rows
        self._lock = threading.Lock()
        self._cache: dict[str, Airport] = {}

    def _table(self) -> Mapping[str, Mapping[str, Any]]:
        if self._rows is None:
            with self._lock:
                if self._rows is None:
                    import airportsdata

                    self._rows = airportsdata.load("IATA")
        return self._rows

    def __contains__(self, iata: object) -> bool:
        return isinstance(iata, str) and iata.strip().upper() in self._table()

    def get(self, iata: str) -> Airport:
        """The airport with that IATA code (``UnknownAirportError`` otherwise)."""
        code = iata.strip().upper() if isinstance(iata, str) else ""
        hit = self._cache.get(code)
        if hit is not None:
            return hit
        row = self._table().get(code) if len(code) == 3 and code.isalpha() else None
        if row is None:
            raise UnknownAirportError(
                f"unknown airport {iata!r} (not an IATA code in the catalog)", iata=str(iata)
            )
        country = str(row["country"]).upper()
        airport = Airport(
            urn=Urn("airport", code),
            name=str(row["name"]),
            latitude=float(row["lat"]),
            longitude=float(row["lon"]),
            timezone=str(row["tz"]),
            country=country,
            default_language=language_for_country(country),
        )
        self._cache[code] = airport
        return airport

    def timezone(self, iata: str) -> str:
        """The airport's IANA time zone."""
        return self.get(iata).timezone

    def country(self, iata: str) -> str:
        """The airport's ISO country code."""
        return self.get(iata).country

    def coordinates(self, iata: str) -> tuple[float, float]:
        """(latitude, longitude) in decimal degrees."""
        a = self.get(iata)
        return a.latitude, a.longitude

    def timezone_near(self, latitude: float, longitude: float) -> str:
        """The IANA time zone of the airport nearest to a point (pickups at or near an
        airport keep the airport's local time)."""
        best: tuple[float, str] | None = None
        for row in self._table().values():
            d = haversine_km(latitude, longitude, float(row["lat"]), float(row["lon"]))
            if best is None or d < best[0]:
                best = (d, str(row["tz"]))
        if best is None:
            raise UnknownAirportError("the airport catalog is empty")
        return best[1]

    def distance_km(self, a: str, b: str) -> float:
        """Great-circle distance between two airports in km."""
        x, y = self.get(a), self.get(b)
        return haversine_km(x.latitude, x.longitude, y.latitude, y.longitude)


_DEFAULT: AirportsDataCatalog | None = None


def default_catalog() -> AirportsDataCatalog:
    """The process-wide catalog (the data set is loaded on first use)."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = AirportsDataCatalog()
    return _DEFAULT
