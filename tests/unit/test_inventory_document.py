from __future__ import annotations

import pytest

from nexa_adapters.documents import parse_inventory
from nexa_core.errors import InputTooLargeError, InvalidInputError
from nexa_core.model import RoomType

HOTEL = {
    "id": "H1",
    "vendor": "amadeus",
    "name": "Hotel",
    "latitude": -33.4,
    "longitude": -70.8,
    "stars": 4,
    "amenities": ["Wi-Fi", "airport shuttle", "rooftop bar"],
    "external_ids": {"giata": "1"},
    "rooms": [{"type": "DBL", "count": 2, "nightly_rate": "99.50", "accessible": True}],
}


def _doc(*hotels: dict) -> dict:  # type: ignore[type-arg]
    return {"check_in": "2026-05-05", "check_out": "2026-05-07", "hotels": list(hotels)}


def test_inventory_becomes_canonical_offers_with_normalised_amenities() -> None:
    (offer,) = parse_inventory(_doc(HOTEL))
    assert str(offer.hotel_urn) == "urn:hotel:H1:vendor:amadeus"
    assert offer.vendor == "amadeus" and offer.nights == 2
    assert offer.rooms[0].room_type is RoomType.DBL and offer.rooms[0].accessible
    assert {"WIFI", "AIRPORT_SHUTTLE", "ROOFTOP_BAR"} <= offer.amenities
    assert offer.external_ids == (("giata", "1"),)


def test_inventory_problems_name_their_json_path() -> None:
    with pytest.raises(InvalidInputError, match=r"\$\.hotels\[0\]\.rooms\[0\]\.count"):
        parse_inventory(_doc({**HOTEL, "rooms": [{"type": "DBL", "count": -1, "nightly_rate": 1}]}))
    with pytest.raises(InvalidInputError, match="duplicate"):
        parse_inventory(_doc(HOTEL, HOTEL))
    with pytest.raises(InvalidInputError, match="check_out must be after check_in"):
        parse_inventory({**_doc(HOTEL), "check_out": "2026-05-05"})
    with pytest.raises(InputTooLargeError):
        parse_inventory(_doc(*([HOTEL] * 5001)))
