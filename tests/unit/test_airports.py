"""The airportsdata-backed airport catalog."""

from __future__ import annotations

import pytest

from nexa_adapters.airports import AirportsDataCatalog, default_catalog, language_for_country
from nexa_adapters.sandbox.inventory import airport
from nexa_core.errors import UnknownAirportError
from nexa_core.ports import AirportCatalog


def test_lookup_returns_coordinates_zone_country_and_language() -> None:
    scl = default_catalog().get("scl")
    assert (scl.iata, scl.timezone, scl.country, scl.default_language) == (
        "SCL",
        "America/Santiago",
        "CL",
        "es",
    )
    assert scl.latitude == pytest.approx(-33.39, abs=0.05)
    assert default_catalog().get("GRU").default_language == "pt"
    assert default_catalog().get("JFK").default_language == "en"


def test_distance_is_great_circle_between_airports() -> None:
    cat = default_catalog()
    assert cat.distance_km("SCL", "EZE") == pytest.approx(1138, abs=5)
    assert cat.distance_km("MAD", "JFK") == pytest.approx(5760, abs=15)
    assert cat.distance_km("MAD", "MAD") == 0


@pytest.mark.parametrize("code", ["ZZZ", "", "SC", "12A", "SCLX"])
def test_unknown_codes_raise_a_clear_error(code: str) -> None:
    with pytest.raises(UnknownAirportError, match="unknown airport"):
        default_catalog().get(code)


def test_catalog_satisfies_the_port_and_can_use_injected_rows() -> None:
    rows = {"XYZ": {"name": "Test", "lat": 1.0, "lon": 2.0, "tz": "UTC", "country": "BR"}}
    port: AirportCatalog = AirportsDataCatalog(rows)  # typed against the port
    assert port.get("XYZ").default_language == "pt"
    assert port.distance_km("XYZ", "XYZ") == 0
    cat = AirportsDataCatalog(rows)
    assert "XYZ" in cat and "SCL" not in cat
    with pytest.raises(UnknownAirportError):
        cat.get("SCL")


def test_sandbox_lookup_delegates_to_the_catalog() -> None:
    assert airport("EZE") == default_catalog().get("EZE")


def test_language_fallback_is_english() -> None:
    assert language_for_country("ZZ") == "en" and language_for_country("mx") == "es"
