"""AeroAPI and aviationstack adapters against payloads shaped after their published
documentation (see each fixture's ``_source``); no network."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from nexa_adapters.flightstatus import AeroApiStatus, AviationStackStatus
from nexa_core.errors import MalformedResponseError, ProviderAuthError, RateLimitedError
from nexa_core.urn import Urn
from tests.adapters.http.conftest import adapter_options

pytestmark = pytest.mark.anyio
DATA = Path(__file__).parent / "data"
LAN = Urn("airline", "LAN")
START = datetime(2026, 5, 5, 12, 0, tzinfo=UTC)
END = datetime(2026, 5, 6, 12, 0, tzinfo=UTC)
AERO_ENV = {"NEXA_SECRET__LAN__AEROAPI__API_KEY": "aero-key-1"}
STACK_ENV = {"NEXA_SECRET__LAN__AVIATIONSTACK__ACCESS_KEY": "stack-key-1"}


def _load(name: str) -> Any:
    doc = json.loads((DATA / name).read_text())
    doc.pop("_source", None)
    return doc


async def test_aeroapi_follows_pages_and_translates_flights_to_statuses() -> None:
    base = "https://aeroapi.test/aeroapi"
    with respx.mock(assert_all_called=True) as mock:
        first = mock.get(f"{base}/operators/LA/flights/scheduled").mock(
            return_value=httpx.Response(200, json=_load("aeroapi_page1.json"))
        )
        mock.get(f"{base}/operators/LAN/flights/scheduled", params={"cursor": "7f3a"}).mock(
            return_value=httpx.Response(200, json=_load("aeroapi_page2.json"))
        )
        status = AeroApiStatus(base_url=base, **adapter_options(AERO_ENV))
        found = await status.departures(LAN, "LA", start=START, end=END)
    sent = first.calls[0].request
    assert sent.headers["x-apikey"] == "aero-key-1"
    assert sent.url.params["start"] == "2026-05-05T12:00:00Z"
    assert sent.url.params["end"] == "2026-05-06T12:00:00Z"
    assert [(str(s.flight.flight_urn), s.status, s.delay_minutes) for s in found] == [
        ("urn:flight:LA500@20260505:vendor:aeroapi", "SCHEDULED", 0.0),
        ("urn:flight:LA800@20260505:vendor:aeroapi", "SCHEDULED", 0.0),
        ("urn:flight:LA502@20260505:vendor:aeroapi", "DELAYED", 40.0),  # 22:00 local, 5 May
    ]
    la500 = found[0].flight
    assert (la500.carrier, la500.origin, la500.destination, la500.distance_miles) == (
        "LA",
        "SCL",
        "EZE",
        712,
    )


async def test_aeroapi_cancelled_and_departed_flights_map_to_states() -> None:
    page = _load("aeroapi_page1.json")
    page["links"] = None
    page["scheduled"][0]["cancelled"] = True
    page["scheduled"][1]["actual_out"] = "2026-05-05T21:04:00Z"
    with respx.mock() as mock:
        mock.get(url__regex=r".*/operators/LA/flights/scheduled.*").mock(
            return_value=httpx.Response(200, json=page)
        )
        found = await AeroApiStatus(
            base_url="https://aeroapi.test", **adapter_options(AERO_ENV)
        ).departures(LAN, "LA", start=START, end=END)
    assert [s.status for s in found] == ["CANCELLED", "DEPARTED"]


async def test_aeroapi_refused_key_and_broken_payloads_become_typed_errors() -> None:
    with respx.mock() as mock:
        mock.get(url__regex=r".*/operators/LA/.*").mock(
            return_value=httpx.Response(
                401,
                json={
                    "title": "Unauthorized",
                    "reason": "UNAUTHORIZED",
                    "detail": "invalid API key",
                    "status": 401,
                },
            )
        )
        with pytest.raises(ProviderAuthError):
            await AeroApiStatus(
                base_url="https://aeroapi.test", **adapter_options(AERO_ENV)
            ).departures(LAN, "LA", start=START, end=END)
    with respx.mock() as mock:
        mock.get(url__regex=r".*/operators/LA/.*").mock(
            return_value=httpx.Response(200, json={"scheduled": [{"scheduled_out": "yesterday"}]})
        )
        with pytest.raises(MalformedResponseError):
            await AeroApiStatus(
                base_url="https://aeroapi.test", **adapter_options(AERO_ENV)
            ).departures(LAN, "LA", start=START, end=END)


async def test_aviationstack_reads_local_clock_times_in_the_airport_zone() -> None:
    with respx.mock() as mock:
        route = mock.get("https://stack.test/v1/flights").mock(
            return_value=httpx.Response(200, json=_load("aviationstack_flights.json"))
        )
        found = await AviationStackStatus(
            base_url="https://stack.test", **adapter_options(STACK_ENV)
        ).departures(LAN, "LA", start=START, end=END)
    params = route.calls[0].request.url.params
    assert (params["access_key"], params["airline_iata"]) == ("stack-key-1", "LA")
    la500, la2368 = found
    assert str(la500.flight.flight_urn) == "urn:flight:LA500@20260505:vendor:aviationstack"
    # 19:15 on Santiago's clock (UTC-4 in May), not 19:15 UTC
    assert la500.flight.scheduled_departure.astimezone(UTC) == datetime(
        2026, 5, 5, 23, 15, tzinfo=UTC
    )
    assert (la500.status, la500.delay_minutes) == ("DELAYED", 40.0)
    assert (la2368.status, la2368.flight.destination) == ("CANCELLED", "LIM")


@pytest.mark.parametrize(
    ("code", "error"),
    [("invalid_access_key", ProviderAuthError), ("usage_limit_reached", RateLimitedError)],
)
async def test_aviationstack_error_bodies_are_typed_and_never_echo_the_key(
    code: str, error: type[Exception]
) -> None:
    body = {"error": {"code": code, "message": "see documentation"}}
    with respx.mock() as mock:
        mock.get("https://stack.test/v1/flights").mock(return_value=httpx.Response(200, json=body))
        with pytest.raises(error) as err:
            await AviationStackStatus(
                base_url="https://stack.test", **adapter_options(STACK_ENV)
            ).departures(LAN, "LA", start=START, end=END)
    assert "stack-key-1" not in str(err.value)
