"""Uber Guest Rides (Uber for Business): estimates, trips, cancel, signed status webhooks.

Credentials per tenant: ``client_id`` and ``client_secret`` (OAuth2 client credentials,
scope ``guests.trips``), ``webhook_signing_key`` (the signing key Uber shows for the
webhook URL: it keys the ``X-Uber-Signature`` HMAC and is never the OAuth client secret),
``guest_phone`` (the airline desk's number, so no passenger phone leaves the airline) and,
for a third-party app acting for the airline's organization, ``organization_uuid`` (sent
as ``x-uber-organizationuuid``; Uber denies third-party calls without it). The transfer URN
travels as ``expense_memo`` and is the replay key.

Webhook envelopes Uber documents for Guest Rides: ``guests.trips.status_changed`` (its
``meta.status`` is mapped, see :attr:`UberRides.STATES`) and ``guests.trips.receipt_ready``
(acknowledged, changes nothing). Other event types are acknowledged and ignored with a
logged reason.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field

from nexa_adapters.http._inbound import header
from nexa_adapters.http._oauth import TokenCache
from nexa_adapters.http._resilience import parse_json, parse_model
from nexa_adapters.http._transport import RideEvent, RideHailingAdapter
from nexa_core.errors import NotFoundError, ProviderRejectedError, WebhookVerificationError
from nexa_core.model import Money, TransferStatus
from nexa_core.ports import TransferQuote, TransferRequest
from nexa_core.urn import Urn

__all__ = ["EVENT_TYPES", "ORGANIZATION_HEADER", "UberRides", "uber_signature"]

#: Third-party apps name the organization they act for in this header.
ORGANIZATION_HEADER = "x-uber-organizationuuid"

#: Guest Rides webhook event types Uber documents → whether they carry a ride state.
EVENT_TYPES: Mapping[str, bool] = {
    "guests.trips.status_changed": True,
    "guests.trips.receipt_ready": False,
}


def uber_signature(signing_key: str, body: bytes) -> str:
    """``X-Uber-Signature``: hex HMAC-SHA256 of the raw body with the webhook signing key."""
    return hmac.new(signing_key.encode(), body, hashlib.sha256).hexdigest()


class _M(BaseModel):
    model_config = ConfigDict(extra="ignore")


class _Token(_M):
    access_token: str = Field(min_length=1)
    expires_in: int = Field(gt=0)


class _Product(_M):
    product_id: str
    display_name: str = ""
    capacity: int = 4


class _Fare(_M):
    fare_id: str | None = None
    value: Decimal
    currency_code: str = Field(min_length=3, max_length=3)


class _EstimateInfo(_M):
    fare: _Fare
    pickup_estimate: int | None = None


class _ProductEstimate(_M):
    product: _Product
    estimate_info: _EstimateInfo


class _Estimates(_M):
    product_estimates: list[_ProductEstimate] = []


class _Trip(_M):
    request_id: str = Field(min_length=1)
    status: str = "processing"


class UberRides(RideHailingAdapter):
    """TransportProvider over Uber's Guest Rides API."""

    vendor = "uber"
    default_base_url = "https://api.uber.com"
    token_url = "https://auth.uber.com/oauth/v2/token"
    #: every ``meta.status`` of ``guests.trips.status_changed``
    STATES: Mapping[str, TransferStatus | None] = {
        "processing": TransferStatus.REQUESTED,
        "accepted": TransferStatus.DISPATCHED,
        "arriving": TransferStatus.DISPATCHED,
        "in_progress": TransferStatus.IN_PROGRESS,
        "completed": TransferStatus.COMPLETED,
        "rider_canceled": TransferStatus.CANCELLED,
        "driver_canceled": TransferStatus.CANCELLED,
        "no_drivers_available": TransferStatus.FAILED,
    }

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.tokens = TokenCache(self._fetch_token, clock=self.clock)

    async def _fetch_token(self, tenant: Urn) -> tuple[str, float]:
        response = await self.http.request(
            "POST",
            self.token_url,
            tenant=tenant,
            operation="oauth.token",
            data={
                "client_id": (await self.secret(tenant, "client_id")).reveal(),
                "client_secret": (await self.secret(tenant, "client_secret")).reveal(),
                "grant_type": "client_credentials",
                "scope": "guests.trips",
            },
        )
        token = parse_model(
            _Token, parse_json(response, self.vendor, "oauth.token"), self.vendor, "oauth.token"
        )
        return token.access_token, float(token.expires_in)

    async def _call(
        self, method: str, path: str, tenant: Urn, operation: str, **kw: Any
    ) -> httpx.Response:
        organization: str | None = None
        with contextlib.suppress(NotFoundError):  # first-party apps need none
            organization = (await self.secret(tenant, "organization_uuid")).reveal()

        async def headers() -> dict[str, str]:
            out = {"Authorization": f"Bearer {await self.tokens.token(tenant)}"}
            if organization:
                out[ORGANIZATION_HEADER] = organization
            return out

        async def refresh() -> None:
            await self.tokens.invalidate(tenant)

        return await self.http.request(
            method, path, tenant=tenant, operation=operation, headers=headers, refresh=refresh, **kw
        )

    @staticmethod
    def _points(request: TransferRequest) -> dict[str, Any]:
        return {
            "pickup": {"latitude": request.pickup[0], "longitude": request.pickup[1]},
            "dropoff": {"latitude": request.dropoff[0], "longitude": request.dropoff[1]},
        }

    async def _estimate(self, request: TransferRequest) -> _ProductEstimate | None:
        response = await self._call(
            "POST",
            "/v1/guests/trips/estimates",
            request.airline_urn,
            "trips.estimate",
            json=self._points(request),
        )
        found = parse_model(
            _Estimates,
            parse_json(response, self.vendor, "trips.estimate"),
            self.vendor,
            "trips.estimate",
        )
        fitting = [e for e in found.product_estimates if e.product.capacity >= request.passengers]
        return min(fitting, key=lambda e: e.estimate_info.fare.value) if fitting else None

    async def _quote(self, request: TransferRequest) -> TransferQuote:
        best = await self._estimate(request)
        if best is None:
            return TransferQuote(self.name, Money(Decimal(0), "USD"), False)
        fare = best.estimate_info.fare
        return TransferQuote(
            self.name,
            Money(fare.value, fare.currency_code),
            True,
            best.estimate_info.pickup_estimate,
        )

    async def _dispatch(self, request: TransferRequest) -> tuple[str, int | None]:
        best = await self._estimate(request)
        if best is None:
            raise ProviderRejectedError(
                f"uber: no product seats {request.passengers} passengers", vendor=self.vendor
            )
        tenant = request.airline_urn
        first, _, last = (request.lead_name or "Nexa Guest").partition(" ")
        body = {
            **self._points(request),
            "guest": {
                "first_name": first,
                "last_name": last or "-",
                "phone_number": (await self.secret(tenant, "guest_phone")).reveal(),
            },
            "product_id": best.product.product_id,
            "fare_id": best.estimate_info.fare.fare_id,
            "expense_memo": str(request.transfer_urn),
            "note_for_driver": f"{request.passengers} passengers",
        }
        if request.pickup_at > self.clock.now():
            body["scheduling"] = {"pickup_time": int(request.pickup_at.timestamp() * 1000)}
        response = await self._call(
            "POST", "/v1/guests/trips", tenant, "trips.create", json=body, idempotent=False
        )
        trip = parse_model(
            _Trip, parse_json(response, self.vendor, "trips.create"), self.vendor, "trips.create"
        )
        return trip.request_id, best.estimate_info.pickup_estimate

    async def _cancel(self, tenant: Urn, vendor_ref: str) -> Money | None:
        response = await self._call(
            "DELETE", f"/v1/guests/trips/{vendor_ref}", tenant, "trips.cancel"
        )
        if response.status_code == 204 or not response.content:
            return None
        data = parse_json(response, self.vendor, "trips.cancel")
        fee = data.get("cancellation_fee") if isinstance(data, dict) else None
        if isinstance(fee, dict) and "value" in fee and "currency_code" in fee:
            return Money(Decimal(str(fee["value"])), fee["currency_code"])
        return None

    async def _verify(self, tenant: Urn, body: bytes, headers: Mapping[str, str]) -> None:
        sig = header(headers, "X-Uber-Signature")
        if not sig:
            raise WebhookVerificationError("missing X-Uber-Signature", vendor=self.vendor)
        key = (await self.secret(tenant, "webhook_signing_key")).reveal()
        expected = uber_signature(key, body)
        # hex digits compare case-insensitively (constant time on the normalised forms)
        if not hmac.compare_digest(expected.encode(), sig.strip().lower().encode()):
            raise WebhookVerificationError(
                "uber webhook signature does not match", vendor=self.vendor
            )

    def _event(self, data: Any) -> RideEvent:
        at = data.get("event_time")
        when = datetime.fromtimestamp(int(at), UTC) if at is not None else None
        meta = data["meta"]
        kind = str(data["event_type"])
        event_id, ref = str(data["event_id"]), str(meta["resource_id"])
        if not event_id or not ref:
            raise ValueError("event_id and meta.resource_id are required")
        if EVENT_TYPES.get(kind):
            return RideEvent(event_id, ref, str(meta["status"]), when)
        note = (
            f"{kind} carries no ride state"
            if kind in EVENT_TYPES
            else f"{kind} is not a documented Guest Rides event type"
        )
        return RideEvent(event_id, ref, None, when, note)
