"""Cabify for Business: estimates, journeys, cancel, signed state webhooks.

Credentials per tenant: ``api_key`` (Bearer), ``requester_id`` (the airline's Cabify user
that owns the journeys) and ``webhook_secret`` (``X-Cabify-Signature: sha256=<hex HMAC>``).
The transfer URN is sent as the journey's ``external_id`` and is the replay key. Prices
arrive in minor units (cents) and become Decimal amounts.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field

from nexa_adapters.http._resilience import parse_json, parse_model
from nexa_adapters.http._transport import RideHailingAdapter
from nexa_adapters.webhooks import hmac_sha256_matches
from nexa_core.errors import ProviderRejectedError, WebhookVerificationError
from nexa_core.model import Money, TransferStatus
from nexa_core.ports import TransferQuote, TransferRequest
from nexa_core.urn import Urn

__all__ = ["CabifyRides"]


class _M(BaseModel):
    model_config = ConfigDict(extra="ignore")


class _VehicleType(_M):
    id: str = Field(alias="_id")
    name: str = ""
    max_passengers: int = 4


class _Eta(_M):
    min: int | None = None


class _Estimate(_M):
    vehicle_type: _VehicleType
    total_price: int = Field(ge=0)  # minor units
    currency: str = Field(min_length=3, max_length=3)
    eta: _Eta | None = None


class _Journey(_M):
    id: str = Field(min_length=1)


class _Cancelled(_M):
    cancellation_fee: int | None = None  # minor units
    currency: str | None = None


class CabifyRides(RideHailingAdapter):
    """TransportProvider over Cabify's business API."""

    vendor = "cabify"
    default_base_url = "https://cabify.com"
    STATES: Mapping[str, TransferStatus] = {
        "hire": TransferStatus.DISPATCHED,
        "arrival": TransferStatus.DISPATCHED,
        "pick_up": TransferStatus.IN_PROGRESS,
        "drop_off": TransferStatus.COMPLETED,
        "rider_cancel": TransferStatus.CANCELLED,
        "driver_cancel": TransferStatus.CANCELLED,
        "no_driver": TransferStatus.FAILED,
        "failure": TransferStatus.FAILED,
    }

    async def _call(
        self, method: str, path: str, tenant: Urn, operation: str, **kw: Any
    ) -> httpx.Response:
        key = await self.secret(tenant, "api_key")

        async def headers() -> dict[str, str]:
            return {"Authorization": f"Bearer {key.reveal()}"}

        return await self.http.request(
            method, path, tenant=tenant, operation=operation, headers=headers, **kw
        )

    @staticmethod
    def _stops(request: TransferRequest) -> list[dict[str, Any]]:
        return [{"loc": list(request.pickup)}, {"loc": list(request.dropoff)}]

    async def _estimate(self, request: TransferRequest) -> _Estimate | None:
        response = await self._call(
            "POST",
            "/api/v4/estimates",
            request.airline_urn,
            "estimates",
            json={"stops": self._stops(request), "start_at": request.pickup_at.isoformat()},
        )
        data = parse_json(response, self.vendor, "estimates")
        items = [
            parse_model(_Estimate, e, self.vendor, "estimates")
            for e in (data if isinstance(data, list) else [data])
        ]
        fitting = [e for e in items if e.vehicle_type.max_passengers >= request.passengers]
        return min(fitting, key=lambda e: e.total_price) if fitting else None

    @staticmethod
    def _money(minor: int, currency: str) -> Money:
        return Money(Decimal(minor) / 100, currency)

    async def _quote(self, request: TransferRequest) -> TransferQuote:
        best = await self._estimate(request)
        if best is None:
            return TransferQuote(self.name, Money(Decimal(0), "USD"), False)
        return TransferQuote(
            self.name,
            self._money(best.total_price, best.currency),
            True,
            best.eta.min if best.eta else None,
        )

    async def _dispatch(self, request: TransferRequest) -> tuple[str, int | None]:
        best = await self._estimate(request)
        if best is None:
            raise ProviderRejectedError(
                f"cabify: no vehicle seats {request.passengers} passengers", vendor=self.vendor
            )
        tenant = request.airline_urn
        body = {
            "stops": self._stops(request),
            "vehicle_type_id": best.vehicle_type.id,
            "start_at": request.pickup_at.isoformat(),
            "requester_id": (await self.secret(tenant, "requester_id")).reveal(),
            "rider": {"name": request.lead_name or "Nexa guest"},
            "message": f"{request.passengers} passengers",
            "external_id": str(request.transfer_urn),
        }
        response = await self._call(
            "POST", "/api/v4/journey", tenant, "journey.create", json=body, idempotent=False
        )
        journey = parse_model(
            _Journey,
            parse_json(response, self.vendor, "journey.create"),
            self.vendor,
            "journey.create",
        )
        return journey.id, best.eta.min if best.eta else None

    async def _cancel(self, tenant: Urn, vendor_ref: str) -> Money | None:
        response = await self._call(
            "POST", f"/api/v4/journey/{vendor_ref}/cancel", tenant, "journey.cancel"
        )
        if not response.content:
            return None
        c = parse_model(
            _Cancelled,
            parse_json(response, self.vendor, "journey.cancel"),
            self.vendor,
            "journey.cancel",
        )
        if c.cancellation_fee and c.currency:
            return self._money(c.cancellation_fee, c.currency)
        return None

    async def _verify(self, tenant: Urn, body: bytes, headers: Mapping[str, str]) -> None:
        sig = {k.lower(): v for k, v in headers.items()}.get("x-cabify-signature", "")
        if not sig.startswith("sha256="):
            raise WebhookVerificationError("missing X-Cabify-Signature")
        key = (await self.secret(tenant, "webhook_secret")).reveal().encode()
        if not hmac_sha256_matches(key, body, sig.removeprefix("sha256="), encoding="hex"):
            raise WebhookVerificationError("cabify webhook signature does not match")

    def _event(self, body: bytes) -> tuple[str, str, str, datetime | None]:
        data = json.loads(body)
        at = data.get("created_at")
        when = datetime.fromisoformat(at.replace("Z", "+00:00")) if at else None
        journey = data["journey"]
        return str(data["id"]), str(journey["id"]), str(journey["state"]), when
