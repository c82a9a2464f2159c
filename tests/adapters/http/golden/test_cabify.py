"""Cabify on the wire, held against the published Ride-Hailing API v4.

Facts and sources: ``golden/cabify/SOURCE.md`` (the webhook envelope is modelled).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import attrs
import pytest
import respx

from nexa_adapters.http.cabify import CabifyRides
from nexa_adapters.http.cabify.provider import _Estimate, local_start_at
from nexa_core.errors import ProviderNotFoundError, WebhookVerificationError
from nexa_core.model import TransferStatus
from nexa_core.runtime import FixedClock
from nexa_core.testing.providers import LAN, sample_transfer_request
from tests.adapters.http.conftest import adapter_options
from tests.adapters.http.golden._golden import errors, load, validate
from tests.adapters.http.test_transport import CABIFY_ENV, FakeCabify

V = "cabify"
SCHEMAS = "ride_hailing.schemas.json"
EXAMPLES = load(V, "examples.json")
NOW = datetime(2026, 5, 5, 12, 0, tzinfo=UTC)
ENV = {
    **CABIFY_ENV,
    "NEXA_SECRET__LAN__CABIFY__RIDER_MOBILE_CC": "56",
    "NEXA_SECRET__LAN__CABIFY__RIDER_MOBILE_NUM": "222223333",
}


@pytest.fixture
def cabify() -> Iterator[FakeCabify]:
    with respx.mock(assert_all_called=False) as mock:
        yield FakeCabify(mock)


def _adapter() -> CabifyRides:
    return CabifyRides(
        timezone_at=lambda lat, lon: "America/Santiago",
        **adapter_options(ENV, clock=FixedClock(NOW)),
    )


@pytest.mark.parametrize("name", ["JourneyRequest", "EstimateRequest", "EstimateResponse"])
def test_the_published_examples_fit_the_stored_schemas(name: str) -> None:
    assert errors(V, f"{SCHEMAS}#{name}", EXAMPLES[name]) == []


def test_the_published_estimate_example_is_understood() -> None:
    (item,) = EXAMPLES["EstimateResponse"]
    estimate = _Estimate.model_validate(item)
    assert estimate.product.id == "d79565b5b64d9d46549925c254793937"
    assert CabifyRides._money(estimate.total).amount == Decimal("23.32")
    assert estimate.eta_minutes == 10


@pytest.mark.anyio
async def test_an_asap_ride_sends_no_start_at(cabify: FakeCabify) -> None:
    soon = attrs.evolve(sample_transfer_request("t-asap"), pickup_at=NOW + timedelta(minutes=10))
    d = await _adapter().dispatch(soon)
    (estimate,) = cabify.estimates
    validate(V, f"{SCHEMAS}#EstimateRequest", estimate)
    assert estimate["start_type"] == "asap" and "start_at" not in estimate
    journey = cabify.journeys[d.vendor_ref]
    validate(V, f"{SCHEMAS}#JourneyRequest", journey)
    assert "start_at" not in journey
    # the product id comes from the estimate, the cheapest one that seats the group
    assert journey["product_id"] == "d79565b5b64d9d46549925c254793937"
    assert journey["rider"]["mobile"] == {"mobile_cc": "56", "mobile_num": "222223333"}


@pytest.mark.anyio
async def test_a_reservation_sends_the_pickups_local_time(cabify: FakeCabify) -> None:
    later = attrs.evolve(
        sample_transfer_request("t-res", passengers=6),
        pickup_at=datetime(2026, 5, 5, 22, 0, tzinfo=UTC),
    )
    d = await _adapter().dispatch(later)
    (estimate,) = cabify.estimates
    validate(V, f"{SCHEMAS}#EstimateRequest", estimate)
    # 22:00 UTC is 18:00 in Santiago (UTC-4 in May), in the documented format
    assert (estimate["start_type"], estimate["start_at"]) == ("reserved", "2026-05-05 18:00:00")
    journey = cabify.journeys[d.vendor_ref]
    validate(V, f"{SCHEMAS}#JourneyRequest", journey)
    assert journey["start_at"] == estimate["start_at"]  # the same value, as documented
    assert journey["product_id"] == "75dd566797369d1f0927102e5356ce59"  # the van seats 6


def test_start_at_format_follows_the_published_pattern() -> None:
    value = local_start_at(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), "Europe/Madrid")
    assert value == "2026-01-02 04:04:05"
    assert (
        errors(V, f"{SCHEMAS}#JourneyRequest", {**EXAMPLES["JourneyRequest"], "start_at": value})
        == []
    )
    iso = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC).isoformat()
    assert errors(V, f"{SCHEMAS}#JourneyRequest", {**EXAMPLES["JourneyRequest"], "start_at": iso})


@pytest.mark.anyio
async def test_cancel_posts_to_the_published_state_endpoint(cabify: FakeCabify) -> None:
    adapter = _adapter()
    d = await adapter.dispatch(sample_transfer_request("t-x"))
    assert await adapter.cancel(LAN, d.transfer_urn) is None
    assert cabify.cancelled == [d.vendor_ref]
    assert "POST /api/v4/journey/{id}/state" in load(V, "published.json")["operations"]


@pytest.mark.anyio
async def test_a_404_on_cancel_is_a_provider_not_found(cabify: FakeCabify) -> None:
    adapter = _adapter()
    d = await adapter.dispatch(sample_transfer_request("t-y"))
    cabify.journeys.clear()
    with pytest.raises(ProviderNotFoundError):
        await adapter.cancel(LAN, d.transfer_urn)


def test_every_documented_journey_state_is_mapped() -> None:
    published = load(V, "published.json")
    documented = set(published["journey_states"]) | set(published["end_states"])
    assert documented == set(CabifyRides.STATES)
    assert CabifyRides.STATES["terminated"] is None  # acknowledged: billing close


def _signed(body: bytes, key: str = "cb-whsecret") -> dict[str, str]:
    return {
        "X-Cabify-Signature": "sha256=" + hmac.new(key.encode(), body, hashlib.sha256).hexdigest()
    }


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("state", "status"),
    [
        ("hire", TransferStatus.REQUESTED),
        ("hired", TransferStatus.DISPATCHED),
        ("arrived", TransferStatus.DISPATCHED),
        ("pick up", TransferStatus.IN_PROGRESS),
        ("drop off", TransferStatus.COMPLETED),
        ("terminated", None),
        ("driver cancel", TransferStatus.CANCELLED),
        ("no show", TransferStatus.FAILED),
    ],
)
async def test_state_webhooks_map_every_state(
    cabify: FakeCabify, state: str, status: TransferStatus | None
) -> None:
    adapter = _adapter()
    d = await adapter.dispatch(sample_transfer_request("t-s"))
    body = json.dumps(
        {
            "id": "evt-1",
            "created_at": "2026-05-05T22:10:00Z",
            "journey": {"id": d.vendor_ref, "state": state},
        }
    ).encode()
    update = await adapter.verify_webhook(LAN, body, _signed(body))
    assert update.status is status
    if status is None:
        assert update.ignored  # acknowledged, with the reason logged
    with pytest.raises(WebhookVerificationError):
        await adapter.verify_webhook(LAN, body, _signed(body, "other"))
