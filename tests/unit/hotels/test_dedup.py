from __future__ import annotations

import attrs

from nexa_core.hotels import dedup_offers, normalize_text
from nexa_core.model import RoomType

from ..allocation.helpers import offer


def test_shared_external_id_is_a_duplicate() -> None:
    a = attrs.evolve(offer("A", [(RoomType.DBL, 5, "90")]), external_ids=(("amadeus", "X1"),))
    b = attrs.evolve(
        offer("B", [(RoomType.DBL, 5, "80")], km=9, vendor="hb"),
        external_ids=(("AMADEUS", "x1"),),
        urn=attrs.evolve(a.urn, id="of-B"),
    )
    result = dedup_offers([a, b])
    assert [o.hotel_urn.id for o in result.offers] == ["B"]
    assert result.merged[0][2] == "external-id"


def test_near_offers_with_the_same_stars_are_duplicates() -> None:
    a = offer("A", [(RoomType.DBL, 5, "90")], km=5.0)
    b = attrs.evolve(offer("B", [(RoomType.DBL, 5, "85")], km=5.05, vendor="hb"), name="Other")
    far = attrs.evolve(offer("C", [(RoomType.DBL, 5, "70")], km=5.3), name="Far")
    other_stars = attrs.evolve(offer("D", [(RoomType.DBL, 5, "60")], km=5.0, stars=5), name="Lux")
    result = dedup_offers([a, b, far, other_stars])
    assert sorted(o.hotel_urn.id for o in result.offers) == ["B", "C", "D"]
    assert [m[2] for m in result.merged] == ["geo-stars"]


def test_same_normalised_name_and_address_is_a_duplicate() -> None:
    a = attrs.evolve(
        offer("A", [(RoomType.DBL, 5, "90")], km=1), name="Hôtel  Andes!", address="Av. 1"
    )
    b = attrs.evolve(
        offer("B", [(RoomType.DBL, 5, "95")], km=20, stars=4), name="hotel andes", address="AV 1"
    )
    result = dedup_offers([a, b])
    assert [o.hotel_urn.id for o in result.offers] == ["A"]
    assert result.merged[0][2] == "name-address"
    assert normalize_text("Hôtel  Andes!") == "hotel andes"


def test_cheapest_duplicate_wins_and_ties_go_to_the_direct_contract() -> None:
    gds = offer("G", [(RoomType.DBL, 5, "90")], vendor="amadeus")
    direct = attrs.evolve(offer("C", [(RoomType.DBL, 5, "90")], vendor="direct"), name=gds.name)
    assert dedup_offers([gds, direct]).offers[0].vendor == "direct"
    cheaper = attrs.evolve(offer("H", [(RoomType.DBL, 5, "89")], vendor="hb"), name=gds.name)
    assert dedup_offers([gds, direct, cheaper]).offers[0].vendor == "hb"


def test_geo_layer_finds_neighbours_at_high_latitude_and_across_cell_edges() -> None:
    base = offer("A", [(RoomType.DBL, 5, "90")])
    north = attrs.evolve(base, latitude=69.65, longitude=18.956, name="Tromso A")
    # ~90 m east of it at 69.65° N (0.00234° of longitude)
    east = attrs.evolve(
        offer("B", [(RoomType.DBL, 5, "80")], vendor="hb"),
        latitude=69.65,
        longitude=18.95834,
        name="Tromso B",
    )
    assert [o.hotel_urn.id for o in dedup_offers([north, east]).offers] == ["B"]
    # ~150 m away is not a duplicate
    far = attrs.evolve(east, longitude=18.9599, urn=attrs.evolve(east.urn, id="of-C"))
    assert len(dedup_offers([north, far]).offers) == 2
