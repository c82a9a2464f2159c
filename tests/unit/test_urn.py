from __future__ import annotations

import re

import pytest
from hypothesis import given

from nexa_core.errors import ConfigurationError, InvalidUrnError, NotFoundError
from nexa_core.testing.strategies import urns
from nexa_core.urn import (
    ENTITY_TYPES,
    Urn,
    VendorRegistry,
    correlation_from_traceparent,
    vendor_of,
    with_status,
    without_status,
)

SEED_EXAMPLES = [
    "urn:case:c-7f8e1",
    "urn:sub-case:sc-91a4",
    "urn:flight:LA500@20260505:vendor:aeroapi",
    "urn:airline:LAN",
    "urn:airport:SCL",
    "urn:passenger:p-1124:vendor:latam",
    "urn:pnr:XYZ123:vendor:amadeus",
    "urn:offer:8842",
    "urn:hotel:SCL1234:vendor:amadeus",
    "urn:reservation:r-8842",
    "urn:reservation:AMAD-1A-99XX:vendor:amadeus:status:confirmed",
    "urn:hold-attempt:h-a91",
    "urn:issued-card:ic-44b1",
    "urn:transfer:t-3301:vendor:uber",
    "urn:user:u-7",
    "urn:compensation-dead-letter:cdl-118",
    "urn:reservation:r-8842:vendor:hotelbeds:status:confirmed",
    "urn:auth:auth-9912:vendor:pomelo",
    "urn:event:e-7f8e1",
    "urn:correlation:abc123",
]


@pytest.mark.parametrize("text", SEED_EXAMPLES)
def test_every_seed_registry_example_parses_and_round_trips(text: str) -> None:
    assert str(Urn.parse(text)) == text


@pytest.mark.parametrize("entity", sorted(ENTITY_TYPES))
def test_every_registry_entry_has_a_parsable_example(entity: str) -> None:
    example = ENTITY_TYPES[entity].example
    assert Urn.parse(example).entity == entity


@given(urns())
def test_parse_of_str_round_trips(u: Urn) -> None:
    assert Urn.parse(str(u)) == u
    assert hash(Urn.parse(str(u))) == hash(u)


def test_prefix_and_entity_are_case_insensitive_but_id_is_not() -> None:
    assert Urn.parse("URN:Case:c-1") == Urn.parse("urn:case:c-1")
    assert Urn.parse("urn:case:c-1") != Urn.parse("urn:case:C-1")
    assert str(Urn.parse("URN:CASE:c-1:VENDOR:Amadeus")) == "urn:case:c-1:vendor:amadeus"


def test_parts_are_exposed() -> None:
    u = Urn.parse("urn:reservation:AMAD-1A-99XX:vendor:amadeus:status:confirmed")
    assert (u.entity, u.id, u.vendor, u.status) == (
        "reservation",
        "AMAD-1A-99XX",
        "amadeus",
        "confirmed",
    )
    assert vendor_of(u) == "amadeus"
    assert vendor_of("urn:case:c-1") is None
    assert without_status(u) == Urn.parse("urn:reservation:AMAD-1A-99XX:vendor:amadeus")
    assert with_status(without_status(u), "CANCELLED").status == "cancelled"
    assert u.base == without_status(u)


@pytest.mark.parametrize(
    ("text", "part"),
    [
        ("urn:bogus", "id"),
        ("nope:case:c-1", "prefix"),
        ("urn:spaceship:x-1", "entity"),
        ("urn:case:", "id"),
        ("urn:case:c 1", "id"),
        ("urn:airport:scl", "id"),
        ("urn:airport:SCLX", "id"),
        ("urn:flight:LA500@20261340", "id"),
        ("urn:flight:LA500", "id"),
        ("urn:case:c-1:vendor", "segment"),
        ("urn:case:c-1:color:red", "segment"),
        ("urn:case:c-1:status:ok:vendor:x", "vendor"),
        ("urn:case:c-1:vendor:a:vendor:b", "vendor"),
        ("urn:case:c-1:vendor:Bad Vendor", "vendor"),
        ("urn:case:c-1:status:!", "status"),
        ("urn:correlation:00000000000000000000000000000000", "id"),
    ],
)
def test_bad_input_names_the_offending_part(text: str, part: str) -> None:
    with pytest.raises(InvalidUrnError) as info:
        Urn.parse(text)
    assert info.value.context["part"] == part
    assert not info.value.retryable


def test_constructor_validates_too() -> None:
    with pytest.raises(InvalidUrnError):
        Urn("airport", "scl")
    assert Urn.of("AIRPORT", "SCL", vendor="IATA") == Urn.parse("urn:airport:SCL:vendor:iata")


VALID_TP = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def test_valid_traceparent_keeps_its_trace_id() -> None:
    assert str(correlation_from_traceparent(VALID_TP)) == (
        "urn:correlation:4bf92f3577b34da6a3ce929d0e0e4736"
    )
    # a future version may carry extra fields
    future = "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-the-future"
    assert correlation_from_traceparent(future).id == "4bf92f3577b34da6a3ce929d0e0e4736"


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "garbage",
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",  # upper case
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",  # forbidden version
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",  # zero trace id
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",  # zero parent id
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",  # v00 with extra
        "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",  # short trace id
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1",  # short flags
    ],
)
def test_invalid_traceparent_starts_a_new_random_trace(header: str | None) -> None:
    a = correlation_from_traceparent(header)
    b = correlation_from_traceparent(header)
    assert re.fullmatch(r"[0-9a-f]{32}", a.id)
    assert a != b
    assert a.id != "4bf92f3577b34da6a3ce929d0e0e4736"


def test_vendor_registry_routes_by_dict_lookup() -> None:
    reg: VendorRegistry[str] = VendorRegistry({"amadeus": "A", "hotelbeds": "H"})
    assert reg.resolve(Urn.parse("urn:hotel:X1:vendor:amadeus")) == "A"
    assert reg.resolve(Urn.parse("urn:reservation:r-1:vendor:HOTELBEDS:status:confirmed")) == "H"
    assert list(reg) == ["amadeus", "hotelbeds"]
    with pytest.raises(NotFoundError):
        reg.resolve(Urn.parse("urn:hotel:X1:vendor:expedia"))
    with pytest.raises(NotFoundError):
        reg.resolve(Urn.parse("urn:hotel:X1"))
    with pytest.raises(ConfigurationError):
        reg.register("amadeus", "again")


def test_a_new_correlation_never_looks_like_a_card_number_to_the_stores() -> None:
    from nexa_core.pii import find_card_numbers
    from nexa_core.urn import new_correlation

    # about one random trace id in 550 holds a Luhn-valid digit run the stores refuse
    assert not [c for c in (new_correlation() for _ in range(5000)) if find_card_numbers(c.id)]


def test_a_traceparent_whose_trace_id_looks_like_a_card_number_starts_a_new_trace() -> None:
    header = "00-4111111111111111abcdefabcdefabcd-00f067aa0ba902b7-01"
    got = correlation_from_traceparent(header)
    assert got.id != "4111111111111111abcdefabcdefabcd" and len(got.id) == 32
