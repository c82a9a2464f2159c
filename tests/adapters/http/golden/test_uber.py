"""Uber Guest Rides on the wire, held against Uber's published developer documentation.

No machine-readable specification is published; the facts are stored with their pages in
``golden/uber/SOURCE.md`` and the example envelopes are modelled on the documented fields.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from datetime import UTC, datetime

import attrs
import httpx
import pytest
import respx

from nexa_adapters.http.uber import EVENT_TYPES, ORGANIZATION_HEADER, UberRides, uber_signature
from nexa_core.errors import WebhookVerificationError
from nexa_core.model import TransferStatus
from nexa_core.runtime import FixedClock
from nexa_core.testing.providers import LAN, sample_transfer_request
from tests.adapters.http.conftest import adapter_options
from tests.adapters.http.golden._golden import load
from tests.adapters.http.test_transport import UBER_ENV, FakeUber

V = "uber"
PUBLISHED = load(V, "published.json")
ENV = {
    **UBER_ENV,
    "NEXA_SECRET__LAN__UBER__ORGANIZATION_UUID": "c2f1a1a2-8b3b-4b7e-9d5a-1f2e3d4c5b6a",
}


class RecordingUber(FakeUber):
    def __init__(self, mock: respx.MockRouter) -> None:
        self.requests: list[httpx.Request] = []
        super().__init__(mock)

    def create(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return super().create(request)


@pytest.fixture
def uber() -> Iterator[RecordingUber]:
    with respx.mock(assert_all_called=False) as mock:
        yield RecordingUber(mock)


def _adapter(env: dict[str, str] = ENV) -> UberRides:
    return UberRides(**adapter_options(env, clock=FixedClock()))


def test_the_signature_is_the_documented_recipe() -> None:
    body = json.dumps(load(V, "status_changed.example.json")).encode()
    # "hmac.new(signing_key, webhook_body, hashlib.sha256).hexdigest()" as documented
    assert uber_signature("k", body) == hmac.new(b"k", body, hashlib.sha256).hexdigest()


@pytest.mark.anyio
async def test_every_call_names_the_organization_for_a_third_party_app(
    uber: RecordingUber,
) -> None:
    later = attrs.evolve(sample_transfer_request("t-o"), pickup_at=datetime(2026, 5, 6, tzinfo=UTC))
    await _adapter().dispatch(later)
    (create,) = uber.requests
    assert create.headers[ORGANIZATION_HEADER] == ENV["NEXA_SECRET__LAN__UBER__ORGANIZATION_UUID"]
    assert PUBLISHED["organization_header"] == ORGANIZATION_HEADER
    body = json.loads(create.content)
    documented = set(PUBLISHED["create_trip_fields"])
    sent = {
        f"{k}.{sub}" if isinstance(v, dict) else k
        for k, v in body.items()
        for sub in (v if isinstance(v, dict) else [None])
    }
    assert sent <= documented, sent - documented
    # a scheduled ride: the pickup time in milliseconds
    assert body["scheduling"]["pickup_time"] == int(later.pickup_at.timestamp() * 1000)


@pytest.mark.anyio
async def test_a_first_party_app_sends_no_organization_header(uber: RecordingUber) -> None:
    await _adapter(UBER_ENV).dispatch(sample_transfer_request("t-f"))
    (create,) = uber.requests
    assert ORGANIZATION_HEADER not in create.headers


def test_the_documented_event_types_and_statuses_are_all_handled() -> None:
    webhook = PUBLISHED["webhook"]
    assert set(EVENT_TYPES) == set(webhook["event_types"])
    assert set(UberRides.STATES) == set(webhook["status_changed_statuses"])


async def _dispatched(adapter: UberRides) -> str:
    return (await adapter.dispatch(sample_transfer_request("t-w"))).vendor_ref


def _envelope(name: str, ref: str, status: str | None = None) -> bytes:
    doc = load(V, name)
    doc["meta"]["resource_id"] = ref
    if status is not None:
        doc["meta"]["status"] = status
    return json.dumps(doc).encode()


@pytest.mark.anyio
@pytest.mark.parametrize("case", [str.lower, str.upper])
async def test_the_signing_key_verifies_and_hex_case_does_not_matter(
    uber: RecordingUber, case: object
) -> None:
    adapter = _adapter()
    body = _envelope("status_changed.example.json", await _dispatched(adapter))
    sig = case(uber_signature("ub-signing-key", body))  # type: ignore[operator]
    update = await adapter.verify_webhook(LAN, body, {"x-uber-signature": sig})
    assert update.status is TransferStatus.DISPATCHED and update.event_id


@pytest.mark.anyio
async def test_the_oauth_client_secret_is_not_the_webhook_key(uber: RecordingUber) -> None:
    adapter = _adapter()
    body = _envelope("status_changed.example.json", await _dispatched(adapter))
    with pytest.raises(WebhookVerificationError, match="does not match"):
        await adapter.verify_webhook(
            LAN, body, {"X-Uber-Signature": uber_signature("ub-csecret", body)}
        )


@pytest.mark.anyio
async def test_a_receipt_ready_envelope_is_acknowledged_and_ignored(uber: RecordingUber) -> None:
    adapter = _adapter()
    body = _envelope("receipt_ready.example.json", await _dispatched(adapter))
    update = await adapter.verify_webhook(
        LAN, body, {"X-Uber-Signature": uber_signature("ub-signing-key", body)}
    )
    assert update.status is None and "receipt_ready" in update.ignored


@pytest.mark.anyio
async def test_an_undocumented_event_type_is_acknowledged_with_a_reason(
    uber: RecordingUber,
) -> None:
    adapter = _adapter()
    doc = load(V, "status_changed.example.json")
    doc["event_type"] = "guests.trips.something_new"
    doc["meta"]["resource_id"] = await _dispatched(adapter)
    body = json.dumps(doc).encode()
    update = await adapter.verify_webhook(
        LAN, body, {"X-Uber-Signature": uber_signature("ub-signing-key", body)}
    )
    assert update.status is None and "not a documented" in update.ignored


@pytest.mark.anyio
async def test_an_oversized_body_is_refused_before_the_hmac(uber: RecordingUber) -> None:
    body = b"{" + b" " * (1024 * 1024) + b"}"
    with pytest.raises(WebhookVerificationError, match="larger"):
        await _adapter().verify_webhook(LAN, body, {"X-Uber-Signature": "00"})
