"""Uber and Cabify adapters: conformance, replays by transfer URN, cancel, signed webhooks."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
import respx

from nexa_adapters.http.cabify import CabifyRides
from nexa_adapters.http.uber import UberRides
from nexa_core.errors import (
    MalformedResponseError,
    ProviderAuthError,
    ProviderRejectedError,
    ProviderTimeoutError,
    ProviderUnavailableError,
    RateLimitedError,
    WebhookVerificationError,
)
from nexa_core.model import TransferStatus
from nexa_core.testing.providers import LAN, TransportProviderContract, sample_transfer_request
from tests.adapters.http.conftest import adapter_options

UBER = "https://api.uber.com"
UBER_AUTH = "https://auth.uber.com/oauth/v2/token"
CABIFY = "https://cabify.com"
UBER_ENV = {
    "NEXA_SECRET__LAN__UBER__CLIENT_ID": "ub-cid",
    "NEXA_SECRET__LAN__UBER__CLIENT_SECRET": "ub-csecret",
    "NEXA_SECRET__LAN__UBER__GUEST_PHONE": "+56222223333",
    "NEXA_SECRET__LAN__UBER__WEBHOOK_SIGNING_KEY": "ub-signing-key",
}
CABIFY_ENV = {
    "NEXA_SECRET__LAN__CABIFY__API_KEY": "cb-key",
    "NEXA_SECRET__LAN__CABIFY__REQUESTER_ID": "e9c7ba933d1611edb6126a4aaec3df3f",
    "NEXA_SECRET__LAN__CABIFY__WEBHOOK_SECRET": "cb-whsecret",
}

UBER_ESTIMATES = {
    "etas_unavailable": False,
    "fares_unavailable": False,
    "product_estimates": [
        {
            "product": {
                "product_id": "a1111c8c-c720-46c3-8534-2fcdd730040d",
                "display_name": "UberX",
                "capacity": 4,
            },
            "estimate_info": {
                "fare": {
                    "fare_id": "fare-x",
                    "value": 18.75,
                    "currency_code": "USD",
                    "display": "$18.75",
                },
                "pickup_estimate": 6,
            },
        },
        {
            "product": {
                "product_id": "821415d8-3bd5-4e27-9604-194e4359a449",
                "display_name": "UberXL",
                "capacity": 6,
            },
            "estimate_info": {
                "fare": {
                    "fare_id": "fare-xl",
                    "value": 27.4,
                    "currency_code": "USD",
                    "display": "$27.40",
                },
                "pickup_estimate": 9,
            },
        },
    ],
}


class FakeUber:
    def __init__(self, mock: respx.MockRouter) -> None:
        self.trips: dict[str, dict[str, Any]] = {}
        self.tokens = 0
        mock.post(UBER_AUTH).mock(side_effect=self.token)
        mock.post(UBER + "/v1/guests/trips/estimates").respond(200, json=UBER_ESTIMATES)
        mock.post(UBER + "/v1/guests/trips").mock(side_effect=self.create)
        mock.delete(url__regex=r".*/v1/guests/trips/(?P<rid>[^/]+)$").mock(side_effect=self.cancel)

    def token(self, request: httpx.Request) -> httpx.Response:
        assert b"scope=guests.trips" in request.content
        self.tokens += 1
        return httpx.Response(
            200,
            json={
                "access_token": f"ub-{self.tokens}",
                "token_type": "Bearer",
                "expires_in": 2592000,
                "scope": "guests.trips",
            },
        )

    def create(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        assert body["guest"]["phone_number"] == "+56222223333"
        rid = f"b5512127-a134-4bf4-b1ba-fe9f48f56d{len(self.trips):02d}"
        self.trips[rid] = body
        return httpx.Response(
            200, json={"request_id": rid, "status": "processing", "product_id": body["product_id"]}
        )

    def cancel(self, request: httpx.Request, rid: str) -> httpx.Response:
        return httpx.Response(204)


CABIFY_ESTIMATES = [
    {
        "distance": 21000,
        "duration": 1560,
        "eta": {"formatted": "7 min", "low_availability": False},
        "product": {
            "description": "Executive cars",
            "id": "d79565b5b64d9d46549925c254793937",
            "name": "Cabify Executive",
            "service_type": "standard",
            "slug": "executive",
        },
        "route": "ukbvFnjhU",
        "supplements": [],
        "total": {"amount": 2450, "currency": "USD"},
    },
    {
        "distance": 21000,
        "duration": 1560,
        "eta": {"formatted": "12 min", "low_availability": True},
        "product": {
            "description": "Up to 7 riders",
            "id": "75dd566797369d1f0927102e5356ce59",
            "name": "Cabify Van",
            "service_type": "standard",
            "slug": "van",
        },
        "route": "ukbvFnjhU",
        "supplements": [],
        "total": {"amount": 3900, "currency": "USD"},
    },
]


class FakeCabify:
    def __init__(self, mock: respx.MockRouter) -> None:
        self.journeys: dict[str, dict[str, Any]] = {}
        self.estimates: list[dict[str, Any]] = []
        self.cancelled: list[str] = []
        mock.post(CABIFY + "/api/v4/estimates").mock(side_effect=self.estimate)
        mock.post(CABIFY + "/api/v4/journey").mock(side_effect=self.create)
        mock.post(url__regex=r".*/api/v4/journey/(?P<jid>[^/]+)/state$").mock(
            side_effect=self.cancel
        )

    def estimate(self, request: httpx.Request) -> httpx.Response:
        self.estimates.append(json.loads(request.content))
        return httpx.Response(200, json=CABIFY_ESTIMATES)

    def create(self, request: httpx.Request) -> httpx.Response:
        assert request.headers["Authorization"] == "Bearer cb-key"
        body = json.loads(request.content)
        jid = f"f0397896-19aa-11ed-b6fe-7aaea806{len(self.journeys):04d}"
        self.journeys[jid] = body
        return httpx.Response(200, json={"id": jid})

    def cancel(self, request: httpx.Request, jid: str) -> httpx.Response:
        if jid not in self.journeys:
            return httpx.Response(404, json={"message": "journey not found"})
        self.cancelled.append(jid)
        return httpx.Response(200, json={"id": jid})


@pytest.fixture
def uber() -> Any:
    with respx.mock(assert_all_called=False) as mock:
        yield FakeUber(mock), mock


@pytest.fixture
def cabify() -> Any:
    with respx.mock(assert_all_called=False) as mock:
        yield FakeCabify(mock), mock


class TestUberConformance(TransportProviderContract):
    @pytest.fixture
    async def provider(self, uber: Any) -> AsyncIterator[Any]:
        yield UberRides(**adapter_options(UBER_ENV))


class TestCabifyConformance(TransportProviderContract):
    @pytest.fixture
    async def provider(self, cabify: Any) -> AsyncIterator[Any]:
        yield CabifyRides(**adapter_options(CABIFY_ENV))


@pytest.mark.anyio
async def test_uber_quote_picks_the_cheapest_product_that_seats_everyone(uber: Any) -> None:
    adapter = UberRides(**adapter_options(UBER_ENV))
    small = await adapter.quote(sample_transfer_request(passengers=3))
    big = await adapter.quote(sample_transfer_request(passengers=5))
    assert small.price.amount == Decimal("18.75") and small.eta_minutes == 6
    assert big.price.amount == Decimal("27.4")
    none = await adapter.quote(sample_transfer_request(passengers=9))
    assert none.available is False
    with pytest.raises(ProviderRejectedError):
        await adapter.dispatch(sample_transfer_request("t-9", passengers=9))


@pytest.mark.anyio
async def test_uber_dispatch_carries_the_transfer_urn_and_replays_once(uber: Any) -> None:
    fake, _ = uber
    adapter = UberRides(**adapter_options(UBER_ENV))
    first = await adapter.dispatch(sample_transfer_request("t-1"))
    again = await adapter.dispatch(sample_transfer_request("t-1"))
    assert len(fake.trips) == 1 and again.replayed and again.vendor_ref == first.vendor_ref
    assert fake.trips[first.vendor_ref]["expense_memo"] == "urn:transfer:t-1"
    assert await adapter.cancel(LAN, sample_transfer_request("t-1").transfer_urn) is None


@pytest.mark.anyio
async def test_cabify_prices_are_minor_units_and_cancel_goes_through_the_state_endpoint(
    cabify: Any,
) -> None:
    fake, _ = cabify
    adapter = CabifyRides(**adapter_options(CABIFY_ENV))
    quote = await adapter.quote(sample_transfer_request(passengers=2))
    assert quote.price.amount == Decimal("24.50") and quote.eta_minutes == 7
    d = await adapter.dispatch(sample_transfer_request("t-2", passengers=6))
    assert fake.journeys[d.vendor_ref]["product_id"] == "75dd566797369d1f0927102e5356ce59"
    assert fake.journeys[d.vendor_ref]["reason"] == "urn:transfer:t-2"
    assert await adapter.cancel(LAN, d.transfer_urn) is None  # a fee comes with the sale
    assert await adapter.cancel(LAN, d.transfer_urn) is None
    assert fake.cancelled == [d.vendor_ref]  # the second cancel is a replay


def _uber_event(
    rid: str, status: str, event_id: str = "3a3f3da4-14ac-4056-bbf2-d0b9cdcb0777"
) -> bytes:
    return json.dumps(
        {
            "event_id": event_id,
            "event_time": 1777996800,
            "event_type": "guests.trips.status_changed",
            "meta": {
                "user_id": "d13dff8b-3e1f-4ba6-b7c2-2b3c5f8c1f0a",
                "resource_id": rid,
                "status": status,
            },
            "resource_href": f"https://api.uber.com/v1/guests/trips/{rid}",
        }
    ).encode()


def _hex(key: str, body: bytes) -> str:
    return hmac.new(key.encode(), body, hashlib.sha256).hexdigest()


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("state", "status"),
    [
        ("accepted", TransferStatus.DISPATCHED),
        ("in_progress", TransferStatus.IN_PROGRESS),
        ("completed", TransferStatus.COMPLETED),
        ("rider_canceled", TransferStatus.CANCELLED),
        ("driver_canceled", TransferStatus.CANCELLED),
        ("no_drivers_available", TransferStatus.FAILED),
    ],
)
async def test_uber_state_webhooks_are_verified_and_mapped(
    uber: Any, state: str, status: TransferStatus
) -> None:
    adapter = UberRides(**adapter_options(UBER_ENV))
    d = await adapter.dispatch(sample_transfer_request("t-w"))
    body = _uber_event(d.vendor_ref, state)
    update = await adapter.verify_webhook(
        LAN, body, {"X-Uber-Signature": _hex("ub-signing-key", body)}
    )
    assert update.status is status and str(update.transfer_urn) == "urn:transfer:t-w"


@pytest.mark.anyio
async def test_uber_webhooks_with_bad_signatures_or_unknown_rides_are_rejected(uber: Any) -> None:
    adapter = UberRides(**adapter_options(UBER_ENV))
    d = await adapter.dispatch(sample_transfer_request("t-w"))
    body = _uber_event(d.vendor_ref, "completed")
    for headers in (
        {},
        {"X-Uber-Signature": _hex("wrong", body)},
        {"X-Uber-Signature": _hex("ub-csecret", body)},  # the OAuth secret never signs
        {"X-Uber-Signature": _hex("ub-signing-key", body + b" ")},
    ):
        with pytest.raises(WebhookVerificationError):
            await adapter.verify_webhook(LAN, body, headers)
    stranger = _uber_event("not-ours", "completed")
    with pytest.raises(WebhookVerificationError, match="did not dispatch"):
        await adapter.verify_webhook(
            LAN, stranger, {"X-Uber-Signature": _hex("ub-signing-key", stranger)}
        )
    odd = _uber_event(d.vendor_ref, "teleported")
    with pytest.raises(WebhookVerificationError, match="unknown state"):
        await adapter.verify_webhook(LAN, odd, {"X-Uber-Signature": _hex("ub-signing-key", odd)})


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("state", "status"),
    [
        ("hired", TransferStatus.DISPATCHED),
        ("pick up", TransferStatus.IN_PROGRESS),
        ("drop off", TransferStatus.COMPLETED),
        ("rider cancel", TransferStatus.CANCELLED),
        ("not found", TransferStatus.FAILED),
    ],
)
async def test_cabify_state_webhooks_are_verified_and_mapped(
    cabify: Any, state: str, status: TransferStatus
) -> None:
    adapter = CabifyRides(**adapter_options(CABIFY_ENV))
    d = await adapter.dispatch(sample_transfer_request("t-c"))
    body = json.dumps(
        {
            "id": "evt-1",
            "created_at": "2026-05-05T22:10:00.000Z",
            "journey": {"id": d.vendor_ref, "state": state},
        }
    ).encode()
    update = await adapter.verify_webhook(
        LAN, body, {"X-Cabify-Signature": "sha256=" + _hex("cb-whsecret", body)}
    )
    assert update.status is status and update.event_id == "evt-1"
    with pytest.raises(WebhookVerificationError):
        await adapter.verify_webhook(
            LAN, body, {"X-Cabify-Signature": "sha256=" + _hex("nope", body)}
        )


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("status", "error_cls"),
    [
        (400, ProviderRejectedError),
        (401, ProviderAuthError),
        (409, ProviderRejectedError),
        (429, RateLimitedError),
        (500, ProviderUnavailableError),
        (504, ProviderTimeoutError),
    ],
)
async def test_error_mapping_table_for_both_vendors(
    uber: Any, status: int, error_cls: type[Exception]
) -> None:
    _, mock = uber
    mock.post(UBER + "/v1/guests/trips/estimates").respond(
        status, json={"code": "x", "message": "y"}
    )
    mock.post(CABIFY + "/api/v4/estimates").mock(
        return_value=httpx.Response(status, json={"error": "x"})
    )
    with pytest.raises(error_cls):
        await UberRides(**adapter_options(UBER_ENV)).quote(sample_transfer_request())
    with pytest.raises(error_cls):
        await CabifyRides(**adapter_options(CABIFY_ENV)).quote(sample_transfer_request())


@pytest.mark.anyio
async def test_uber_401_refreshes_the_token_once(uber: Any) -> None:
    fake, mock = uber
    mock.post(UBER + "/v1/guests/trips/estimates").mock(
        side_effect=[
            httpx.Response(401, json={"code": "unauthorized"}),
            httpx.Response(200, json=UBER_ESTIMATES),
        ]
    )
    await UberRides(**adapter_options(UBER_ENV)).quote(sample_transfer_request())
    assert fake.tokens == 2


@pytest.mark.anyio
async def test_429_retry_after_timeouts_and_malformed_payloads(uber: Any) -> None:
    _, mock = uber
    route = mock.post(UBER + "/v1/guests/trips/estimates")
    route.side_effect = [
        httpx.Response(429, headers={"Retry-After": "5"}),
        httpx.Response(200, json=UBER_ESTIMATES),
    ]
    adapter = UberRides(**adapter_options(UBER_ENV))
    await adapter.quote(sample_transfer_request())
    assert list(adapter.http.slept) == [5.0]
    route.side_effect = httpx.ReadTimeout("slow")
    with pytest.raises(ProviderTimeoutError):
        await adapter.quote(sample_transfer_request())
    route.side_effect = None
    route.respond(
        200,
        json={
            "product_estimates": [
                {"product": {"product_id": "p"}, "estimate_info": {"fare": {"value": "free"}}}
            ]
        },
    )
    with pytest.raises(MalformedResponseError):
        await adapter.quote(sample_transfer_request())


@pytest.mark.anyio
async def test_malformed_dispatch_answer_is_not_remembered(cabify: Any) -> None:
    _, mock = cabify
    mock.post(CABIFY + "/api/v4/journey").respond(201, json={"journey": "?"})
    adapter = CabifyRides(**adapter_options(CABIFY_ENV))
    with pytest.raises(MalformedResponseError):
        await adapter.dispatch(sample_transfer_request("t-bad"))
    assert await adapter.replays.get(LAN, "cabify.dispatch", "urn:transfer:t-bad") is None
