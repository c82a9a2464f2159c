"""Amadeus on the wire, held against the published Self-Service specifications.

Every request the adapter builds is validated against the stored schema and every
published example response is parsed (facts and sources: ``golden/amadeus/SOURCE.md``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import attrs
import httpx
import pytest
import respx

from nexa_adapters.http.amadeus import (
    PUBLISHED_OPERATIONS,
    UNPUBLISHED_OPERATIONS,
    AmadeusHotels,
)
from nexa_core.errors import (
    MalformedResponseError,
    NotFoundError,
    ProviderError,
    ProviderNotFoundError,
)
from nexa_core.model import Contact, RoomType
from nexa_core.runtime import FixedClock
from nexa_core.testing.providers import sample_booking_request, sample_hotel_search
from tests.adapters.http.amadeus_fake import BASE, ENV, TOKEN
from tests.adapters.http.conftest import adapter_options
from tests.adapters.http.golden._golden import errors, load, validate

V = "amadeus"
MEDIA = load(V, "published.json")["hotel_booking_v2"]["consumes"][0]
CLOCK = FixedClock()


def _listing(ids: list[str]) -> dict[str, Any]:
    example = load(V, "hotel_list_v1.by_geocode.response.example.json")
    first = example["data"][0]
    return {"data": [{**first, "hotelId": i, "name": f"HOTEL {i}"} for i in ids]}


def _query(request: httpx.Request, ints: tuple[str, ...] = (), bools: tuple[str, ...] = ()) -> Any:
    """The query string as the typed values the published parameters describe."""
    out: dict[str, Any] = {}
    for key, value in request.url.params.multi_items():
        if key in ("hotelIds", "chainCodes", "amenities", "ratings"):
            out[key] = value.split(",")
        elif key in ints:
            out[key] = int(value)
        elif key in bools:
            out[key] = value == "true"
        elif key in ("latitude", "longitude"):
            out[key] = float(value)
        else:
            out[key] = value
    return out


class Wire:
    """Records what the adapter sends and answers with published examples."""

    def __init__(self, mock: respx.MockRouter, hotels: list[str]) -> None:
        self.requests: list[httpx.Request] = []
        self.search_answer: Any = load(V, "hotel_search_v3.response.example.json")
        self.booking_answer: Any = load(V, "hotel_booking_v2.response.example.json")
        mock.post("/v1/security/oauth2/token").mock(return_value=httpx.Response(200, json=TOKEN))
        mock.get("/v1/reference-data/locations/hotels/by-geocode").mock(
            side_effect=lambda r: self._record(r, httpx.Response(200, json=_listing(hotels)))
        )
        mock.get("/v3/shopping/hotel-offers").mock(
            side_effect=lambda r: self._record(r, httpx.Response(200, json=self.search_answer))
        )
        mock.post("/v2/booking/hotel-orders").mock(
            side_effect=lambda r: self._record(r, httpx.Response(201, json=self.booking_answer))
        )

    def _record(self, request: httpx.Request, response: httpx.Response) -> httpx.Response:
        self.requests.append(request)
        return response

    def sent(self, path: str) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.path == path]


@pytest.fixture
def wire() -> Iterator[Wire]:
    with respx.mock(base_url=BASE, assert_all_called=False) as mock:
        yield Wire(mock, ["MCLONGHM"])


def _adapter() -> AmadeusHotels:
    return AmadeusHotels(**adapter_options(ENV, clock=CLOCK))


async def _offer(wire: Wire) -> Any:
    return (await _adapter().search(sample_hotel_search()))[0]


@pytest.mark.anyio
async def test_the_published_search_example_is_a_non_refundable_offer(wire: Wire) -> None:
    offer = await _offer(wire)
    assert str(offer.hotel_urn) == "urn:hotel:MCLONGHM:vendor:amadeus"
    # the example's policies.cancellation is FULL_STAY without a deadline: charged from now
    assert offer.cancellation_deadline == CLOCK.now()
    assert [(r.room_type, r.nightly_rate) for r in offer.rooms] == [
        (RoomType.DBL, Decimal("358.00"))  # 716.00 for 2 rooms x 1 night
    ]
    assert offer.currency == "GBP" and offer.check_in.isoformat() == "2023-11-22"


@pytest.mark.anyio
async def test_cancellations_array_deadline_is_read(wire: Wire) -> None:
    example = load(V, "hotel_search_v3.response.example.json")
    policies = example["data"][0]["offers"][0]["policies"]
    policies.pop("cancellation")
    policies["cancellations"] = [{"deadline": "2023-11-21T12:00:00+01:00", "amount": "716.00"}]
    wire.search_answer = example
    offer = await _offer(wire)
    assert offer.cancellation_deadline is not None
    assert offer.cancellation_deadline.isoformat() == "2023-11-21T12:00:00+01:00"


@pytest.mark.anyio
async def test_an_offer_without_terms_is_never_freely_cancellable(wire: Wire) -> None:
    example = load(V, "hotel_search_v3.response.example.json")
    example["data"][0]["offers"][0].pop("policies")
    wire.search_answer = example
    offer = await _offer(wire)
    assert offer.cancellation_deadline == CLOCK.now()


@pytest.mark.anyio
async def test_search_requests_fit_the_published_parameters(wire: Wire) -> None:
    await _adapter().search(attrs.evolve(sample_hotel_search(), rooms=40, radius_km=900))
    (listing,) = wire.sent("/v1/reference-data/locations/hotels/by-geocode")
    validate(V, "hotel_list_v1.by_geocode.query.schema.json", _query(listing, ints=("radius",)))
    (search,) = wire.sent("/v3/shopping/hotel-offers")
    params = _query(search, ints=("adults", "roomQuantity"), bools=("bestRateOnly",))
    validate(V, "hotel_search_v3.query.schema.json", params)
    assert params["roomQuantity"] == 9  # 40 rooms are asked as the spec's maximum
    assert search.headers["Accept"] == MEDIA


@pytest.mark.anyio
async def test_hotel_ids_go_in_batches_of_the_published_limit() -> None:
    hotels = [f"HT{n:06d}" for n in range(45)]
    with respx.mock(base_url=BASE, assert_all_called=False) as mock:
        wire = Wire(mock, hotels)
        await _adapter().search(sample_hotel_search())
    batches = [r.url.params["hotelIds"].split(",") for r in wire.sent("/v3/shopping/hotel-offers")]
    assert [len(b) for b in batches] == [20, 20]  # 40 hotels priced, never more than 20 a call
    assert [h for b in batches for h in b] == hotels[:40]
    for request in wire.sent("/v3/shopping/hotel-offers"):
        params = _query(request, ints=("adults", "roomQuantity"), bools=("bestRateOnly",))
        validate(V, "hotel_search_v3.query.schema.json", params)


@pytest.mark.anyio
async def test_the_booking_body_fits_the_published_schema(wire: Wire) -> None:
    offer = await _offer(wire)
    request = attrs.evolve(
        sample_booking_request(offer),
        lead_name="José Pérez-Núñez",
        lead_contact=Contact("jose.perez@example.com", None, "es", "José"),
        special_requests=("late arrival",),
        card_token="tok_virtual_card_1",
    )
    conf = await _adapter().book(request)
    (sent,) = wire.sent("/v2/booking/hotel-orders")
    assert sent.headers["Content-Type"] == MEDIA and sent.headers["Accept"] == MEDIA
    body = json.loads(sent.content)
    validate(V, "hotel_booking_v2.request.schema.json", body)
    guest = body["data"]["guests"][0]
    assert "phone" not in guest  # unknown phone: omitted (the schema needs 2+ characters)
    assert (guest["firstName"], guest["lastName"]) == ("Jose", "Perez-Nunez")
    card = body["data"]["payment"]["paymentCard"]["paymentCardInfo"]
    assert card["holderName"] == "Jose Perez-Nunez"  # the lead passenger, not the tenant
    assert card["cardNumber"] == "tok_virtual_card_1"
    # the published 201 example is understood
    assert str(conf.confirmation_urn) == "urn:reservation:89922710:vendor:amadeus:status:confirmed"
    assert (conf.total.amount, conf.total.currency) == (Decimal("215.05"), "EUR")


def test_the_schema_is_strict_enough_to_catch_an_empty_phone() -> None:
    body = load(V, "hotel_booking_v2.request.example.json")
    assert errors(V, "hotel_booking_v2.request.schema.json", body) == []
    body["data"]["guests"][0]["phone"] = ""
    assert errors(V, "hotel_booking_v2.request.schema.json", body)


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("field", "value"),
    [("checkInDate", "2023-13-45"), ("checkOutDate", "tomorrow")],
)
async def test_malformed_dates_in_a_200_are_malformed_responses(
    wire: Wire, field: str, value: str
) -> None:
    example = load(V, "hotel_search_v3.response.example.json")
    example["data"][0]["offers"][0][field] = value
    wire.search_answer = example
    with pytest.raises(MalformedResponseError) as err:
        await _offer(wire)
    assert err.value.context["vendor"] == "amadeus" and field in err.value.context["fields"]


@pytest.mark.anyio
async def test_a_malformed_cancellation_deadline_is_a_malformed_response(wire: Wire) -> None:
    example = load(V, "hotel_search_v3.response.example.json")
    example["data"][0]["offers"][0]["policies"]["cancellations"] = [{"deadline": "soon"}]
    wire.search_answer = example
    with pytest.raises(MalformedResponseError) as err:
        await _offer(wire)
    assert "deadline" in err.value.context["fields"]


@pytest.mark.anyio
async def test_an_unknown_booking_status_is_a_malformed_response(wire: Wire) -> None:
    offer = await _offer(wire)
    answer = load(V, "hotel_booking_v2.response.example.json")
    answer["data"]["hotelBookings"][0]["bookingStatus"] = "MAYBE"
    wire.booking_answer = answer
    with pytest.raises(MalformedResponseError) as err:
        await _adapter().book(sample_booking_request(offer))
    assert "bookingStatus" in err.value.context["fields"]


@pytest.mark.anyio
async def test_a_404_is_a_provider_error_not_a_missing_nexa_record() -> None:
    with respx.mock(base_url=BASE, assert_all_called=False) as mock:
        mock.post("/v1/security/oauth2/token").mock(return_value=httpx.Response(200, json=TOKEN))
        mock.get("/v1/reference-data/locations/hotels/by-geocode").mock(
            return_value=httpx.Response(404, json={"errors": [{"code": 1797, "status": 404}]})
        )
        with pytest.raises(ProviderNotFoundError) as err:
            await _adapter().search(sample_hotel_search())
    # the orchestrator's ``except ProviderError`` moves on to the other providers
    assert isinstance(err.value, ProviderError) and not isinstance(err.value, NotFoundError)


def test_every_operation_called_is_published_or_marked_modelled() -> None:
    published = load(V, "published.json")
    paths = {
        p for api in ("hotel_search_v3", "hotel_booking_v2") for p in published[api]["paths"]
    } | {f"GET /v1{p.removeprefix('GET ')}" for p in published["hotel_list_v1"]["paths"]}
    assert paths >= PUBLISHED_OPERATIONS
    assert not UNPUBLISHED_OPERATIONS & {p.replace("{offerId}", "{id}") for p in paths}
    assert {p for p in paths if p.startswith(("GET /v2", "DELETE /v2"))} == set()
