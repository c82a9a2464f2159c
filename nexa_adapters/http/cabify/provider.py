"""Cabify Ride-Hailing API v4: estimates, journeys, cancellation, signed state webhooks.

Follows the published v4 journey API: ``POST /api/v4/estimates`` first, its
``product.id`` becomes the journey's ``product_id``; ``start_at`` is sent only for a
reservation (a pickup at least 30 minutes ahead), as ``YYYY-MM-DD HH:MM:SS`` in the
pickup's local time, with ``start_type: reserved`` on the estimate; ASAP rides omit it.
Cancelling posts to the journey's state endpoint (``POST /api/v4/journey/{id}/state``).
Prices arrive in minor units (cents; CLP in units) and become Decimal amounts.

Credentials per tenant: ``api_key`` (Bearer), ``requester_id`` (the airline's Cabify user
that owns the journeys), ``rider_mobile_cc`` and ``rider_mobile_num`` (the airline desk's
mobile, the rider's contact Cabify requires for an external rider; optional) and
``webhook_secret``. Modelled, not published: the state webhook's body and its
``X-Cabify-Signature: sha256=<hex HMAC>`` header, and the seats of a product (estimates
do not state capacity: 4, or 7 for a van/XL/group product).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from nexa_adapters.http._inbound import header
from nexa_adapters.http._resilience import parse_json, parse_model
from nexa_adapters.http._transport import RideEvent, RideHailingAdapter
from nexa_adapters.webhooks import hmac_sha256_matches
from nexa_core.errors import NotFoundError, ProviderRejectedError, WebhookVerificationError
from nexa_core.model import Money, TransferStatus
from nexa_core.ports import TransferQuote, TransferRequest
from nexa_core.urn import Urn

__all__ = ["RESERVATION_LEAD", "CabifyRides", "local_start_at"]

#: Reservations must be created at least this long before the pickup.
RESERVATION_LEAD = timedelta(minutes=30)
#: Products whose slug or name says so seat a group; every other product seats 4.
_LARGE = re.compile(r"van|xl|group|grupo|minibus", re.IGNORECASE)
_ZERO_DECIMAL = frozenset({"CLP", "JPY", "KRW", "PYG"})


class _M(BaseModel):
    model_config = ConfigDict(extra="ignore")


class _Product(_M):
    id: str = Field(min_length=1)
    name: str = ""
    slug: str = ""


class _Price(_M):
    amount: int = Field(ge=0)  # minor units (CLP: units)
    currency: str = Field(min_length=3, max_length=3)


class _Eta(_M):
    formatted: str | None = None
    low_availability: bool | None = None


class _Estimate(_M):
    product: _Product
    total: _Price
    eta: _Eta | None = None

    @property
    def seats(self) -> int:
        return 7 if _LARGE.search(f"{self.product.slug} {self.product.name}") else 4

    @property
    def eta_minutes(self) -> int | None:
        found = re.match(r"\s*(\d+)\s*min", self.eta.formatted or "") if self.eta else None
        return int(found.group(1)) if found else None


class _Journey(_M):
    id: str = Field(min_length=1)


class _StateEvent(_M):
    """Modelled journey state webhook: an event id, when, and the journey's id and state."""

    class _J(_M):
        id: str = Field(min_length=1)
        state: str = Field(min_length=1)

    id: str = Field(min_length=1)
    created_at: AwareDatetime | None = None
    journey: _J


def local_start_at(at: datetime, zone: str) -> str:
    """``start_at`` as Cabify documents it: ``YYYY-MM-DD HH:MM:SS``, pickup local time."""
    return at.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M:%S")


def _nearest_timezone(latitude: float, longitude: float) -> str:
    from nexa_adapters.airports import default_catalog

    return default_catalog().timezone_near(latitude, longitude)


class CabifyRides(RideHailingAdapter):
    """TransportProvider over Cabify's Ride-Hailing API v4."""

    vendor = "cabify"
    default_base_url = "https://cabify.com"
    #: every journey state and end state Cabify documents
    STATES: Mapping[str, TransferStatus | None] = {
        "hire": TransferStatus.REQUESTED,  # searching for a driver
        "hired": TransferStatus.DISPATCHED,
        "arrived": TransferStatus.DISPATCHED,  # the driver waits at the pickup
        "pick up": TransferStatus.IN_PROGRESS,
        "drop off": TransferStatus.COMPLETED,
        "terminated": None,  # the receipt is ready; the end state was reported before
        "rider cancel": TransferStatus.CANCELLED,
        "driver cancel": TransferStatus.CANCELLED,
        "no show": TransferStatus.FAILED,  # the passengers never boarded
        "not found": TransferStatus.FAILED,  # no driver found
    }

    def __init__(
        self, *, timezone_at: Callable[[float, float], str] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.timezone_at = timezone_at or _nearest_timezone

    @staticmethod
    def _state_key(state: str) -> str:
        return " ".join(state.strip().lower().replace("_", " ").split())

    async def _call(
        self, method: str, path: str, tenant: Urn, operation: str, **kw: Any
    ) -> httpx.Response:
        key = await self.secret(tenant, "api_key")

        async def headers() -> dict[str, str]:
            return {"Authorization": f"Bearer {key.reveal()}", "Accept": "application/json"}

        return await self.http.request(
            method, path, tenant=tenant, operation=operation, headers=headers, **kw
        )

    @staticmethod
    def _stops(request: TransferRequest) -> list[dict[str, Any]]:
        return [{"loc": list(request.pickup)}, {"loc": list(request.dropoff)}]

    def _start_at(self, request: TransferRequest) -> str | None:
        """The local ``start_at`` of a reservation; None for an ASAP ride."""
        if request.pickup_at < self.clock.now() + RESERVATION_LEAD:
            return None
        return local_start_at(request.pickup_at, self.timezone_at(*request.pickup))

    async def _estimate(self, request: TransferRequest) -> tuple[_Estimate | None, str | None]:
        tenant = request.airline_urn
        start_at = self._start_at(request)
        body: dict[str, Any] = {
            "requester_id": (await self.secret(tenant, "requester_id")).reveal(),
            "start_type": "reserved" if start_at else "asap",
            "stops": self._stops(request),
        }
        if start_at:
            body["start_at"] = start_at
        response = await self._call("POST", "/api/v4/estimates", tenant, "estimates", json=body)
        data = parse_json(response, self.vendor, "estimates")
        if not isinstance(data, list):
            data = [data]
        items = [parse_model(_Estimate, e, self.vendor, "estimates") for e in data]
        fitting = [e for e in items if e.seats >= request.passengers]
        best = min(fitting, key=lambda e: e.total.amount) if fitting else None
        return best, start_at

    @staticmethod
    def _money(price: _Price) -> Money:
        places = 0 if price.currency.upper() in _ZERO_DECIMAL else 2
        return Money(Decimal(price.amount).scaleb(-places), price.currency)

    async def _quote(self, request: TransferRequest) -> TransferQuote:
        best, _ = await self._estimate(request)
        if best is None:
            return TransferQuote(self.name, Money(Decimal(0), "USD"), False)
        return TransferQuote(self.name, self._money(best.total), True, best.eta_minutes)

    async def _rider(self, tenant: Urn, request: TransferRequest) -> dict[str, Any]:
        rider: dict[str, Any] = {"name": request.lead_name or "Nexa guest"}
        with contextlib.suppress(NotFoundError):  # the desk's mobile, when configured
            rider["mobile"] = {
                "mobile_cc": (await self.secret(tenant, "rider_mobile_cc")).reveal(),
                "mobile_num": (await self.secret(tenant, "rider_mobile_num")).reveal(),
            }
        return rider

    async def _dispatch(self, request: TransferRequest) -> tuple[str, int | None]:
        best, start_at = await self._estimate(request)
        if best is None:
            raise ProviderRejectedError(
                f"cabify: no product seats {request.passengers} passengers", vendor=self.vendor
            )
        tenant = request.airline_urn
        body: dict[str, Any] = {
            "product_id": best.product.id,
            "requester_id": (await self.secret(tenant, "requester_id")).reveal(),
            "rider": await self._rider(tenant, request),
            "stops": self._stops(request),
            "message": f"{request.passengers} passengers",
            # the transfer URN travels with the journey into Cabify's expense reports
            "reason": str(request.transfer_urn),
        }
        if start_at:  # a reservation: the same start_at the estimate used
            body["start_at"] = start_at
        response = await self._call(
            "POST", "/api/v4/journey", tenant, "journey.create", json=body, idempotent=False
        )
        journey = parse_model(
            _Journey,
            parse_json(response, self.vendor, "journey.create"),
            self.vendor,
            "journey.create",
        )
        return journey.id, best.eta_minutes

    async def _cancel(self, tenant: Urn, vendor_ref: str) -> Money | None:
        """Cancel through the journey's state endpoint; a fee, if any, comes with the sale."""
        response = await self._call(
            "POST", f"/api/v4/journey/{vendor_ref}/state", tenant, "journey.cancel"
        )
        if response.content:
            parse_model(
                _Journey,
                parse_json(response, self.vendor, "journey.cancel"),
                self.vendor,
                "journey.cancel",
            )
        return None

    async def _verify(self, tenant: Urn, body: bytes, headers: Mapping[str, str]) -> None:
        sig = (header(headers, "X-Cabify-Signature") or "").strip()
        if not sig.startswith("sha256="):
            raise WebhookVerificationError("missing X-Cabify-Signature", vendor=self.vendor)
        key = (await self.secret(tenant, "webhook_secret")).reveal().encode()
        digest = sig.removeprefix("sha256=").lower()
        if not hmac_sha256_matches(key, body, digest, encoding="hex"):
            raise WebhookVerificationError(
                "cabify webhook signature does not match", vendor=self.vendor
            )

    def _event(self, data: Any) -> RideEvent:
        event = _StateEvent.model_validate(data)
        return RideEvent(event.id, event.journey.id, event.journey.state, event.created_at)
