"""The PSS JSON airline (respx) and the sandbox airline."""

from __future__ import annotations

import httpx
import pytest
import respx

from nexa_adapters.airline import PssJsonAirline, SandboxAirline
from nexa_core.errors import MalformedResponseError, PIIRejectedError, ProviderAuthError
from nexa_core.urn import Urn
from tests.adapters.http.conftest import adapter_options

pytestmark = pytest.mark.anyio
LAN = Urn("airline", "LAN")
FLIGHT = Urn("flight", "LA500@20260505", "aeroapi")
ENV = {"NEXA_SECRET__LAN__PSS__API_KEY": "pss-key"}
BASE = "https://pss.test/api"
FLIGHT_DOC = {
    "origin": "SCL",
    "destination": "EZE",
    "scheduled_departure": "2026-05-05T19:15:00-04:00",
    "status": "CANCELLED",
}
GROUPS = {
    "groups": [
        {
            "group_id": "XYZ123",
            "pnr": "urn:pnr:XYZ123:vendor:amadeus",
            "passengers": [
                {"urn": "urn:passenger:p-1:vendor:lan", "name": "Ana Silva", "email": "ana@example.com",
                 "cabin": "BUSINESS", "special_needs": ["WCHR"]},
            ],
        }
    ]
}  # fmt: skip


async def test_the_pss_serves_the_flight_and_manifest_and_the_answer_is_cached() -> None:
    with respx.mock() as mock:
        flight = mock.get(f"{BASE}/flights/LA500@20260505").mock(
            return_value=httpx.Response(200, json=FLIGHT_DOC)
        )
        manifest = mock.get(f"{BASE}/flights/LA500@20260505/manifest").mock(
            return_value=httpx.Response(200, json=GROUPS)
        )
        pss = PssJsonAirline(base_url=BASE, **adapter_options(ENV))
        got = await pss.flight(LAN, FLIGHT)
        groups = await pss.manifest(LAN, FLIGHT)
        again = await pss.manifest(LAN, FLIGHT)
    assert (got.origin.id, got.destination.id, got.status) == ("SCL", "EZE", "CANCELLED")
    assert manifest.calls[0].request.headers["authorization"] == "Bearer pss-key"
    assert [str(g.pnr_urn) for g in groups] == ["urn:pnr:XYZ123:vendor:amadeus"]
    assert again == groups
    assert (flight.call_count, manifest.call_count) == (1, 1)  # cache, in memory


async def test_the_pss_offering_documents_is_refused_and_a_bad_shape_is_malformed() -> None:
    leaky = {
        "groups": [
            {
                **GROUPS["groups"][0],
                "passengers": [{**GROUPS["groups"][0]["passengers"][0], "passport": "X1"}],
            }
        ]
    }
    with respx.mock() as mock:
        mock.get(f"{BASE}/flights/LA500@20260505").mock(
            return_value=httpx.Response(200, json=FLIGHT_DOC)
        )
        mock.get(f"{BASE}/flights/LA500@20260505/manifest").mock(
            return_value=httpx.Response(200, json=leaky)
        )
        with pytest.raises(PIIRejectedError):
            await PssJsonAirline(base_url=BASE, **adapter_options(ENV)).manifest(LAN, FLIGHT)
    with respx.mock() as mock:
        mock.get(f"{BASE}/flights/LA500@20260505").mock(
            return_value=httpx.Response(200, json=FLIGHT_DOC)
        )
        mock.get(f"{BASE}/flights/LA500@20260505/manifest").mock(
            return_value=httpx.Response(200, json={"groups": [{"group_id": "G"}]})
        )
        with pytest.raises(MalformedResponseError):
            await PssJsonAirline(base_url=BASE, **adapter_options(ENV)).manifest(LAN, FLIGHT)
    with respx.mock() as mock:
        mock.get(f"{BASE}/flights/LA500@20260505").mock(return_value=httpx.Response(403))
        with pytest.raises(ProviderAuthError):
            await PssJsonAirline(base_url=BASE, **adapter_options(ENV)).flight(LAN, FLIGHT)


async def test_the_sandbox_airline_is_deterministic_per_flight() -> None:
    sandbox = SandboxAirline(passengers=40)
    a = await sandbox.manifest(LAN, FLIGHT)
    b = await sandbox.manifest(LAN, FLIGHT)
    other = await sandbox.manifest(LAN, Urn("flight", "LA501@20260505"))
    assert a == b
    assert sum(g.size for g in a) == 40
    assert [g.pnr_urn for g in a] != [g.pnr_urn for g in other]
    flight = await sandbox.flight(LAN, FLIGHT)
    assert flight.origin.id == "SCL" and flight.scheduled_departure.hour == 20
