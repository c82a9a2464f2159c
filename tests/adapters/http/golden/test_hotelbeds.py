"""Hotelbeds on the wire, held against the published Hotel Booking API (OpenAPI 1.0).

Facts and sources: ``golden/hotelbeds/SOURCE.md``.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import attrs
import httpx
import pytest
import respx

from nexa_adapters.http.hotelbeds import HotelbedsHotels
from nexa_adapters.http.hotelbeds import dto as hb_dto
from nexa_adapters.http.hotelbeds.provider import API
from nexa_core.errors import MalformedResponseError
from nexa_core.runtime import FixedClock
from nexa_core.testing.providers import sample_booking_request, sample_hotel_search
from tests.adapters.http.conftest import adapter_options
from tests.adapters.http.golden._golden import errors, load, validate
from tests.adapters.http.hotelbeds_fake import AVAILABILITY, BASE, ENV, FakeHotelbeds

V = "hotelbeds"
SCHEMAS = "schemas.json"
CLOCK = FixedClock()


class RecordingHotelbeds(FakeHotelbeds):
    """The stand-in, remembering every request and able to answer a given availability."""

    def __init__(self, mock: respx.MockRouter) -> None:
        self.requests: list[httpx.Request] = []
        self.availability_answer: Any = AVAILABILITY
        self.booking_answer: Any = None
        super().__init__(mock, CLOCK)

    def availability(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        super().availability(request)
        return httpx.Response(200, json=self.availability_answer)

    def checkrate(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return super().checkrate(request)

    def book(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = super().book(request)
        return (
            answer if self.booking_answer is None else httpx.Response(200, json=self.booking_answer)
        )

    def detail(self, request: httpx.Request, ref: str) -> httpx.Response:
        self.requests.append(request)
        return super().detail(request, ref)

    def cancel(self, request: httpx.Request, ref: str) -> httpx.Response:
        self.requests.append(request)
        return super().cancel(request, ref)

    def bodies(self, suffix: str) -> list[Any]:
        return [json.loads(r.content) for r in self.requests if r.url.path.endswith(suffix)]


@pytest.fixture
def wire() -> Iterator[RecordingHotelbeds]:
    with respx.mock(base_url=BASE, assert_all_called=False) as mock:
        yield RecordingHotelbeds(mock)


def _adapter() -> HotelbedsHotels:
    return HotelbedsHotels(**adapter_options(ENV, clock=CLOCK))


@pytest.mark.parametrize(
    ("schema", "examples"),
    [
        ("availabilityRQ", "availabilityRQ.examples.json"),
        ("checkRateRQ", "checkRateRQ.examples.json"),
        ("bookingRQ", "bookingRQ.examples.json"),
    ],
)
def test_the_published_request_examples_fit_the_stored_schemas(schema: str, examples: str) -> None:
    for name, example in load(V, examples).items():
        assert errors(V, f"{SCHEMAS}#{schema}", example) == [], name


def test_the_stand_in_answers_with_the_published_availability_shape() -> None:
    validate(V, f"{SCHEMAS}#availabilityRS", AVAILABILITY)


@pytest.mark.anyio
async def test_every_request_fits_the_published_schema(wire: RecordingHotelbeds) -> None:
    hb = _adapter()
    offers = await hb.search(attrs.evolve(sample_hotel_search(), radius_km=900))
    (search,) = wire.bodies("/hotels")
    validate(V, f"{SCHEMAS}#availabilityRQ", search)
    assert search["geolocation"]["radius"] == 200  # the published maximum
    request = attrs.evolve(
        sample_booking_request(offers[0]),
        lead_name="Maximiliano " + "Z" * 70,
        special_requests=("ground floor",),
    )
    assert dict(request.offer.external_ids)["hotelbeds.rate_type.DBL"] == "RECHECK"
    await hb.book(request)
    (checked,) = wire.bodies("/checkrates")
    validate(V, f"{SCHEMAS}#checkRateRQ", checked)
    (booked,) = wire.bodies("/bookings")
    validate(V, f"{SCHEMAS}#bookingRQ", booked)
    assert len(booked["holder"]["surname"]) == 50


@pytest.mark.anyio
async def test_the_published_booking_examples_are_understood(wire: RecordingHotelbeds) -> None:
    offer = (await _adapter().search(sample_hotel_search()))[0]
    for name, example in load(V, "bookingRS.examples.json").items():
        parsed = hb_dto.BookingResponse.model_validate(example).booking
        assert parsed.status == "CONFIRMED", name
        wire.booking_answer = example
        conf = await _adapter().book(sample_booking_request(offer, key=f"booking:{name}"))
        assert conf.confirmation_urn.id == example["booking"]["reference"]
        assert conf.total.amount == Decimal(str(example["booking"]["totalNet"]))
        assert conf.total.currency == example["booking"]["currency"]


@pytest.mark.anyio
async def test_a_malformed_cancellation_from_is_a_malformed_response(
    wire: RecordingHotelbeds,
) -> None:
    answer = copy.deepcopy(AVAILABILITY)
    answer["hotels"]["hotels"][0]["rooms"][0]["rates"][0]["cancellationPolicies"] = [
        {"amount": "98.40", "from": "next tuesday"}
    ]
    wire.availability_answer = answer
    with pytest.raises(MalformedResponseError) as err:
        await _adapter().search(sample_hotel_search())
    assert err.value.context["vendor"] == "hotelbeds"
    assert "cancellationPolicies" in err.value.context["fields"]


@pytest.mark.anyio
async def test_a_rate_without_terms_is_never_freely_cancellable(
    wire: RecordingHotelbeds,
) -> None:
    answer = copy.deepcopy(AVAILABILITY)
    for room in answer["hotels"]["hotels"][0]["rooms"]:
        for rate in room["rates"]:
            rate.pop("cancellationPolicies")
    wire.availability_answer = answer
    (offer,) = await _adapter().search(sample_hotel_search())
    assert offer.cancellation_deadline == CLOCK.now()


@pytest.mark.anyio
async def test_paths_use_the_published_api_version(wire: RecordingHotelbeds) -> None:
    published = load(V, "published.json")
    server = published["servers"][0]
    expected = urlsplit(server["url"].replace("{version}", server["version"])).path
    assert expected == API  # /hotel-api/1.0
    hb = _adapter()
    offer = (await hb.search(sample_hotel_search()))[0]
    booking = sample_booking_request(offer)
    conf = await hb.book(booking)
    await hb.status(booking.airline_urn, conf.confirmation_urn)
    await hb.cancel(booking.airline_urn, conf.confirmation_urn, idempotency_key="c-1")
    used = {
        f"{r.method} {r.url.path.removeprefix(API)}".replace(
            conf.confirmation_urn.id, "{bookingId}"
        )
        for r in wire.requests
    }
    assert all(r.url.path.startswith(API + "/") for r in wire.requests)
    assert used == {
        "POST /hotels",
        "POST /checkrates",  # the cheapest DBL rate is a RECHECK rate
        "POST /bookings",
        "GET /bookings/{bookingId}",
        "DELETE /bookings/{bookingId}",
    }
    assert used <= set(published["operations"])
    assert "CANCELLATION" in published["cancellationFlag"]["enum"]
