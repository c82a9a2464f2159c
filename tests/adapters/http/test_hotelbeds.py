"""Hotelbeds adapter: conformance, X-Signature per attempt, normalisation, error mapping."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
import respx

from nexa_adapters.http.hotelbeds import HotelbedsHotels, signature
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
from tests.adapters.http.conftest import adapter_options
from tests.adapters.http.hotelbeds_fake import AVAILABILITY, BASE, ENV, FakeHotelbeds, error


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def hotelbeds(clock: FixedClock) -> Any:
    with respx.mock(base_url=BASE, assert_all_called=False) as mock:
        yield FakeHotelbeds(mock, clock), mock


def _adapter(clock: FixedClock, **extra: Any) -> HotelbedsHotels:
    return HotelbedsHotels(**adapter_options(ENV, clock=clock, **extra))


class TestHotelbedsHotelConformance(HotelProviderContract):
    @pytest.fixture
    async def provider(self, hotelbeds: Any, clock: FixedClock) -> AsyncIterator[Any]:
        yield _adapter(clock)


class TestHotelbedsBookingConformance(BookingProviderContract):
    @pytest.fixture
    async def provider(self, hotelbeds: Any, clock: FixedClock) -> AsyncIterator[Any]:
        yield _adapter(clock)

    @pytest.fixture
    async def offer(self, provider: Any, search_request: HotelSearch) -> HotelOffer:
        return (await provider.search(search_request))[0]


def test_signature_is_hex_sha256_of_key_secret_and_seconds() -> None:
    expected = hashlib.sha256(b"keysecret1700000000").hexdigest()
    assert signature("key", "secret", 1700000000) == expected


@pytest.mark.anyio
async def test_search_normalises_board_rooms_and_cancellation(
    hotelbeds: Any, clock: FixedClock
) -> None:
    [offer] = await _adapter(clock).search(sample_hotel_search())
    assert str(offer.hotel_urn) == "urn:hotel:168471:vendor:hotelbeds"
    assert offer.stars == 4
    rates = {r.room_type: r.nightly_rate for r in offer.rooms}
    assert rates == {RoomType.DBL: Decimal("90.00"), RoomType.TWN: Decimal("120.00")}
    assert offer.board_basis is BoardBasis.RO  # the cheapest rate's board
    assert offer.cancellation_deadline == datetime(2026, 5, 5, 3, 59, tzinfo=UTC)
    assert dict(offer.external_ids)["hotelbeds.rate_type.DBL"] == "RECHECK"


@pytest.mark.anyio
async def test_recheck_rates_go_through_checkrate_before_booking(
    hotelbeds: Any, clock: FixedClock
) -> None:
    fake, _ = hotelbeds
    adapter = _adapter(clock)
    [offer] = await adapter.search(sample_hotel_search())
    conf = await adapter.book(sample_booking_request(offer))
    assert fake.checkrates == 1
    assert fake.booked_bodies[0]["rooms"][0]["rateKey"].endswith("N@2R")
    assert (
        str(conf.confirmation_urn)
        == "urn:reservation:102-3934427:vendor:hotelbeds:status:confirmed"
    )
    assert conf.total.amount == Decimal("90.0")


@pytest.mark.anyio
async def test_every_attempt_is_signed_afresh(hotelbeds: Any, clock: FixedClock) -> None:
    fake, mock = hotelbeds
    calls: list[str] = []

    def flaky(request: httpx.Request) -> httpx.Response:
        calls.append(request.headers["X-Signature"])
        if len(calls) < 3:
            return httpx.Response(503, json=error("SYSTEM_ERROR", "try later"))
        return fake.availability(request)

    async def sleep_and_tick(_: float) -> None:
        clock.advance(timedelta(seconds=2))

    mock.post("/hotel-api/1.0/hotels").mock(side_effect=flaky)
    await _adapter(clock, sleep=sleep_and_tick).search(sample_hotel_search())
    assert len(set(calls)) == 3  # three attempts, three timestamps, three signatures


@pytest.mark.anyio
async def test_a_stale_signature_is_refused_as_auth_error(hotelbeds: Any) -> None:
    # the adapter's clock is 10 minutes behind the partner's
    behind = FixedClock(datetime(2026, 5, 5, 11, 50, tzinfo=UTC))
    with pytest.raises(ProviderAuthError):
        await _adapter(behind).search(sample_hotel_search())


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("status", "body", "error_cls"),
    [
        (400, error("INVALID_REQUEST", "stay is required"), ProviderRejectedError),
        (400, error("INSUFFICIENT_ALLOTMENT", "no rooms"), ProviderRejectedError),
        (409, error("PRICE_CHANGED", "price changed"), ProviderRejectedError),
        (401, {"error": "Authorization field missing"}, ProviderAuthError),
        (403, {"error": "Developer Over Qps"}, RateLimitedError),
        (403, {"error": "Developer Inactive"}, ProviderAuthError),
        (404, error("BOOKING_NOT_FOUND", "nope"), ProviderNotFoundError),
        (429, {"error": "Too many requests"}, RateLimitedError),
        (500, error("SYSTEM_ERROR", "internal"), ProviderUnavailableError),
        (504, {"error": "timeout"}, ProviderTimeoutError),
    ],
)
async def test_error_mapping_table(
    hotelbeds: Any, clock: FixedClock, status: int, body: Any, error_cls: type[Exception]
) -> None:
    _, mock = hotelbeds
    mock.post("/hotel-api/1.0/hotels").respond(status, json=body)
    with pytest.raises(error_cls) as info:
        await _adapter(clock).search(sample_hotel_search())
    assert type(info.value) is error_cls
    assert "hb-secret-lan" not in repr(info.value) and "hb-key-lan" not in repr(info.value)


@pytest.mark.anyio
async def test_429_retry_after_is_honoured(hotelbeds: Any, clock: FixedClock) -> None:
    _fake, mock = hotelbeds
    mock.post("/hotel-api/1.0/hotels").mock(
        side_effect=[
            httpx.Response(429, headers={"Retry-After": "4"}),
            httpx.Response(200, json=AVAILABILITY),
        ]
    )
    adapter = _adapter(clock)
    assert await adapter.search(sample_hotel_search())
    assert list(adapter.http.slept) == [4.0]


@pytest.mark.anyio
async def test_timeout_is_provider_timeout(hotelbeds: Any, clock: FixedClock) -> None:
    _, mock = hotelbeds
    mock.post("/hotel-api/1.0/hotels").mock(side_effect=httpx.ConnectTimeout("slow"))
    with pytest.raises(ProviderTimeoutError):
        await _adapter(clock).search(sample_hotel_search())


@pytest.mark.anyio
async def test_empty_availability_is_an_empty_list(hotelbeds: Any, clock: FixedClock) -> None:
    _, mock = hotelbeds
    mock.post("/hotel-api/1.0/hotels").respond(200, json={"hotels": {"total": 0}})
    assert await _adapter(clock).search(sample_hotel_search()) == []


@pytest.mark.anyio
@pytest.mark.parametrize(
    "payload",
    [
        {"hotels": {"hotels": [{"code": "abc", "name": "x", "currency": "USD"}]}},
        {
            "hotels": {
                "hotels": [
                    {
                        "code": 1,
                        "name": "x",
                        "currency": "USD",
                        "rooms": [{"code": "DBL.ST", "rates": [{"rateKey": "k", "net": "cheap"}]}],
                    }
                ]
            }
        },
        {"nothing": True},
    ],
)
async def test_malformed_availability_is_rejected(
    hotelbeds: Any, clock: FixedClock, payload: Any
) -> None:
    _, mock = hotelbeds
    mock.post("/hotel-api/1.0/hotels").respond(200, json=payload)
    with pytest.raises(MalformedResponseError):
        await _adapter(clock).search(sample_hotel_search())


@pytest.mark.anyio
async def test_malformed_booking_answer_is_not_remembered(
    hotelbeds: Any, clock: FixedClock
) -> None:
    _, mock = hotelbeds
    adapter = _adapter(clock)
    [offer] = await adapter.search(sample_hotel_search())
    mock.post("/hotel-api/1.0/bookings").respond(200, json={"booking": {"status": "CONFIRMED"}})
    with pytest.raises(MalformedResponseError):
        await adapter.book(sample_booking_request(offer, "k-bad"))
    assert (
        await adapter.replays.get(Urn.parse("urn:airline:LAN"), "hotelbeds.booking", "k-bad")
        is None
    )
