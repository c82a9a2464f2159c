from __future__ import annotations

import copy

import pytest
from hypothesis import given, settings

from nexa_adapters.documents import parse_manifest
from nexa_core.errors import InvalidInputError, PIIRejectedError
from nexa_core.model import SpecialNeed, Tier
from nexa_core.testing.strategies import manifests

BASE = {
    "airline": "urn:airline:LAN",
    "external_event_id": "EV-1",
    "airport": "SCL",
    "flight": {
        "urn": "urn:flight:LA500@20260505",
        "destination": "EZE",
        "scheduled_departure": "2026-05-05T18:00:00-04:00",
    },
    "disrupted_at": "2026-05-05T17:00:00-04:00",
    "next_departure": "2026-05-06T10:00:00-04:00",
    "groups": [
        {
            "group_id": "G1",
            "pnr": "urn:pnr:XYZ123:vendor:amadeus",
            "passengers": [
                {
                    "urn": "urn:passenger:p-1:vendor:latam",
                    "name": "Ana",
                    "email": "ana@example.com",
                    "cabin": "BUSINESS",
                    "special_needs": ["WCHR"],
                }
            ],
        }
    ],
}


def test_a_valid_manifest_becomes_domain_values() -> None:
    m = parse_manifest(BASE)
    assert str(m.airline_urn) == "urn:airline:LAN"
    g = m.groups[0]
    assert g.tier is Tier.BUSINESS
    assert g.passengers[0].special_needs == frozenset({SpecialNeed.WCHR})
    assert m.passengers == 1


@settings(max_examples=25, deadline=None)
@given(manifests())
def test_generated_manifests_parse(doc: dict) -> None:
    m = parse_manifest(doc)
    assert m.passengers == sum(len(g["passengers"]) for g in doc["groups"])


@pytest.mark.parametrize("field", ["passport_number", "nationalId", "document"])
def test_document_fields_are_refused(field: str) -> None:
    doc = copy.deepcopy(BASE)
    doc["groups"][0]["passengers"][0][field] = "X1234567"
    with pytest.raises(PIIRejectedError):
        parse_manifest(doc)


@pytest.mark.parametrize(
    ("mutate", "path"),
    [
        (lambda d: d["groups"][0]["passengers"][0].update(email="nope"), "passengers[0].email"),
        (lambda d: d["groups"][0]["passengers"][0].update(cabin="GOLD"), "passengers[0].cabin"),
        (lambda d: d["groups"][0].update(pnr="urn:case:c-1"), "groups[0].pnr"),
        (lambda d: d.update(airport="scl"), "$.airport"),
        (lambda d: d.update(surprise=1), "$.surprise"),
        (
            lambda d: d["flight"].update(scheduled_departure="2026-05-05T18:00:00"),
            "scheduled_departure",
        ),
        (lambda d: d["groups"].append(copy.deepcopy(d["groups"][0])), "group_id"),
    ],
)
def test_bad_manifests_name_the_json_path(mutate, path: str) -> None:
    doc = copy.deepcopy(BASE)
    mutate(doc)
    with pytest.raises(InvalidInputError) as info:
        parse_manifest(doc)
    assert path in str(info.value)


def test_infant_without_adult_is_refused() -> None:
    doc = copy.deepcopy(BASE)
    doc["groups"][0]["passengers"][0]["type"] = "INF"
    with pytest.raises(InvalidInputError, match="infant"):
        parse_manifest(doc)


def test_a_passenger_without_a_language_has_no_preference() -> None:
    m = parse_manifest(BASE)
    assert m.groups[0].passengers[0].contact.language is None
    doc = copy.deepcopy(BASE)
    doc["groups"][0]["passengers"][0]["language"] = "pt-BR"
    assert parse_manifest(doc).groups[0].passengers[0].contact.language == "pt-BR"
