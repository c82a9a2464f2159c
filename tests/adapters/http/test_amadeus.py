"""Amadeus adapter: conformance, OAuth2 caching and refresh, error mapping, malformed data."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
import respx

from nexa_adapters.http.amadeus import AmadeusHotels
from nexa_adapters.secrets import EnvSecrets
from nexa_core.errors import (
    MalformedResponseError,
    ProviderAuthError,
    ProviderNotFoundError,
    ProviderRejectedError,
    ProviderTimeoutError,
    ProviderUnavailableError,
    RateLimitedError,
)
from nexa_core.model import BoardBasis, HotelOffer, RoomType
from nexa_core.ports import HotelSearch
from nexa_core.runtime import FixedClock
from nexa_core.testing.providers import (
    BookingProviderContract,
    HotelProviderContract,
    sample_booking_request,
    sample_hotel_search,
)
from nexa_core.urn import Urn
from tests.adapters.http.amadeus_fake import BASE, ENV, HOTEL_LIST, FakeAmadeus, error
from tests.adapters.http.conftest import adapter_options


def _adapter(**extra: Any) -> AmadeusHotels:
    return AmadeusHotels(**adapter_options(ENV, **extra))


@pytest.fixture
def amadeus() -> Any:
    with respx.mock(base_url=BASE, assert_all_called=False) as mock:
        yield FakeAmadeus(mock), mock


class TestAmadeusHotelConformance(HotelProviderContract):
    @pytest.fixture
    async def provider(self, amadeus: Any) -> AsyncIterator[Any]:
        yield _adapter()


class TestAmadeusBookingConformance(BookingProviderContract):
    @pytest.fixture
    async def provider(self, amadeus: Any) -> AsyncIterator[Any]:
        yield _adapter()

    @pytest.fixture
    async def offer(self, provider: Any, search_request: HotelSearch) -> HotelOffer:
        return (await provider.search(search_request))[0]


@pytest.mark.anyio
async def test_search_maps_prices_as_decimal_and_normalises_rooms(amadeus: Any) -> None:
    offers = await _adapter().search(sample_hotel_search())
    hi = next(o for o in offers if o.hotel_urn.id == "HISCL001")
    assert str(hi.hotel_urn) == "urn:hotel:HISCL001:vendor:amadeus"
    rates = {r.room_type: r.nightly_rate for r in hi.rooms}
    # 240.10 for 2 rooms x 1 night; Decimal arithmetic, no float drift
    assert rates == {RoomType.DBL: Decimal("120.05"), RoomType.TWN: Decimal("130.00")}
    assert hi.board_basis is BoardBasis.BB and hi.chain == "HI"
    assert hi.cancellation_deadline is not None
    assert ("amadeus.offer.DBL", "TSXOJ6LFQ2") in hi.external_ids


@pytest.mark.anyio
async def test_token_is_cached_until_60s_before_expiry(amadeus: Any) -> None:
    fake, _ = amadeus
    clock = FixedClock()
    adapter = _adapter(clock=clock)
    await adapter.search(sample_hotel_search())
    await adapter.search(sample_hotel_search())
    assert fake.tokens_issued == 1
    clock.advance(timedelta(seconds=1799 - 61))
    await adapter.search(sample_hotel_search())
    assert fake.tokens_issued == 1
    clock.advance(timedelta(seconds=2))  # now inside the 60 s margin
    await adapter.search(sample_hotel_search())
    assert fake.tokens_issued == 2


@pytest.mark.anyio
async def test_one_forced_refresh_on_401_then_success(amadeus: Any) -> None:
    fake, mock = amadeus
    calls = {"n": 0}

    def expired_once(request: httpx.Request) -> httpx.Response:
        calls["n"] += 1
        if calls["n"] == 1:
            return httpx.Response(401, json=error(401, 38190, "Invalid access token"))
        return httpx.Response(200, json=HOTEL_LIST)

    mock.get("/v1/reference-data/locations/hotels/by-geocode").mock(side_effect=expired_once)
    await _adapter().search(sample_hotel_search())
    assert fake.tokens_issued == 2 and calls["n"] == 2


@pytest.mark.anyio
async def test_401_after_the_refresh_is_an_auth_error(amadeus: Any) -> None:
    fake, mock = amadeus
    mock.get("/v1/reference-data/locations/hotels/by-geocode").respond(
        401, json=error(401, 38190, "Invalid access token")
    )
    with pytest.raises(ProviderAuthError):
        await _adapter().search(sample_hotel_search())
    assert fake.tokens_issued == 2


@pytest.mark.anyio
async def test_refused_client_credentials_are_an_auth_error_without_the_secret(
    amadeus: Any,
) -> None:
    env = {**ENV, "NEXA_SECRET__LAN__AMADEUS__CLIENT_SECRET": "wrong-secret-value"}
    with pytest.raises(ProviderAuthError) as info:
        await _adapter(secrets=EnvSecrets(env)).search(sample_hotel_search())
    assert "wrong-secret-value" not in repr(info.value) and "wrong-secret" not in str(info.value)


@pytest.mark.anyio
async def test_429_with_retry_after_is_retried(amadeus: Any) -> None:
    _, mock = amadeus
    mock.get("/v1/reference-data/locations/hotels/by-geocode").mock(
        side_effect=[
            httpx.Response(
                429, headers={"Retry-After": "2"}, json=error(429, 38194, "Too many requests")
            ),
            httpx.Response(200, json=HOTEL_LIST),
        ]
    )
    adapter = _adapter()
    await adapter.search(sample_hotel_search())
    assert 2.0 in adapter.http.slept


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("status", "code", "title", "error_cls"),
    [
        (400, 1257, "INVALID PROPERTY CODE", ProviderRejectedError),
        (400, 38194, "Too many requests", RateLimitedError),
        (401, 38190, "Invalid access token", ProviderAuthError),
        (403, 38197, "Forbidden", ProviderAuthError),
        (404, 1797, "NOT FOUND", ProviderNotFoundError),
        (429, 38194, "Too many requests", RateLimitedError),
        (500, 141, "SYSTEM ERROR HAS OCCURRED", ProviderUnavailableError),
        (503, 38189, "Internal error", ProviderUnavailableError),
        (504, 0, "Gateway timeout", ProviderTimeoutError),
    ],
)
async def test_error_mapping_table(
    amadeus: Any, status: int, code: int, title: str, error_cls: type[Exception]
) -> None:
    _, mock = amadeus
    mock.get("/v1/reference-data/locations/hotels/by-geocode").respond(
        status, json=error(status, code, title)
    )
    with pytest.raises(error_cls) as info:
        await _adapter().search(sample_hotel_search())
    assert type(info.value) is error_cls


@pytest.mark.anyio
async def test_no_rooms_available_is_an_empty_result(amadeus: Any) -> None:
    _, mock = amadeus
    mock.get("/v3/shopping/hotel-offers").respond(
        400, json=error(400, 3664, "NO ROOMS AVAILABLE AT REQUESTED PROPERTY")
    )
    assert await _adapter().search(sample_hotel_search()) == []


@pytest.mark.anyio
async def test_timeouts_raise_provider_timeout(amadeus: Any) -> None:
    _, mock = amadeus
    mock.get("/v3/shopping/hotel-offers").mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(ProviderTimeoutError):
        await _adapter().search(sample_hotel_search())


@pytest.mark.anyio
@pytest.mark.parametrize(
    "payload",
    [
        {
            "data": [
                {
                    "type": "hotel-offers",
                    "hotel": {"hotelId": "X", "name": "n"},
                    "offers": [{"id": "O"}],
                }
            ]
        },
        {
            "data": [
                {
                    "type": "hotel-offers",
                    "hotel": {"hotelId": "X", "name": "n"},
                    "offers": [
                        {
                            "id": "O",
                            "checkInDate": "2026-05-05",
                            "checkOutDate": "2026-05-06",
                            "price": {"currency": "USD", "total": "twelve"},
                        }
                    ],
                }
            ]
        },
        {"data": "nope"},
    ],
)
async def test_malformed_search_payloads_raise_malformed_response(
    amadeus: Any, payload: Any
) -> None:
    _, mock = amadeus
    mock.get("/v3/shopping/hotel-offers").respond(200, json=payload)
    with pytest.raises(MalformedResponseError):
        await _adapter().search(sample_hotel_search())


@pytest.mark.anyio
async def test_non_json_is_malformed(amadeus: Any) -> None:
    _, mock = amadeus
    mock.get("/v1/reference-data/locations/hotels/by-geocode").respond(200, text="<html>")
    with pytest.raises(MalformedResponseError):
        await _adapter().search(sample_hotel_search())


@pytest.mark.anyio
async def test_booking_confirmation_urn_carries_the_vendor_confirmation_number(
    amadeus: Any,
) -> None:
    fake, _ = amadeus
    adapter = _adapter()
    offer = (await adapter.search(sample_hotel_search()))[0]
    conf = await adapter.book(sample_booking_request(offer))
    assert str(conf.confirmation_urn) == "urn:reservation:HI000001:vendor:amadeus:status:confirmed"
    assert conf.total.amount == Decimal("120.05")
    payment = fake.bookings[0]["data"]["payment"]["paymentCard"]["paymentCardInfo"]
    assert payment["cardNumber"] == "tok_guarantee_lan"
    assert fake.bookings[0]["data"]["roomAssociations"][0]["hotelOfferId"] == "TSXOJ6LFQ2"


@pytest.mark.anyio
async def test_malformed_booking_answer_remembers_nothing(amadeus: Any) -> None:
    _, mock = amadeus
    adapter = _adapter()
    offer = (await adapter.search(sample_hotel_search()))[0]
    mock.post("/v2/booking/hotel-orders").respond(
        201, json={"data": {"type": "hotel-order", "id": "X"}}
    )
    with pytest.raises(MalformedResponseError):
        await adapter.book(sample_booking_request(offer, "k-bad"))
    assert await adapter.replays.get(Urn("airline", "LAN"), "amadeus.booking", "k-bad") is None


@pytest.mark.anyio
async def test_booking_is_not_retried_blindly_on_5xx(amadeus: Any) -> None:
    _, mock = amadeus
    adapter = _adapter()
    offer = (await adapter.search(sample_hotel_search()))[0]
    route = mock.post("/v2/booking/hotel-orders").respond(503)
    with pytest.raises(ProviderUnavailableError):
        await adapter.book(sample_booking_request(offer, "k-503"))
    assert route.call_count == 1


@pytest.mark.anyio
async def test_sold_out_booking_is_rejected(amadeus: Any) -> None:
    _, mock = amadeus
    adapter = _adapter()
    offer = (await adapter.search(sample_hotel_search()))[0]
    mock.post("/v2/booking/hotel-orders").respond(
        400, json=error(400, 3664, "NO ROOMS AVAILABLE AT REQUESTED PROPERTY")
    )
    with pytest.raises(ProviderRejectedError):
        await adapter.book(sample_booking_request(offer, "k-sold"))
