"""Hotelbeds APItude: availability, checkrate, bookings, cancellation.

Every request carries ``Api-key`` and ``X-Signature`` = hex SHA-256 of
``apiKey + secret + <unix seconds>``, computed afresh for every attempt (a retried call is
never sent with a stale signature). Credentials per tenant: ``api_key`` and ``secret``.
Board codes and cancellation policies are normalised into :class:`BoardBasis` and the
offer's ``cancellation_deadline`` (the first moment a charge applies; a rate without
published terms is treated as non-refundable, never as freely cancellable).

Paths follow the published Hotel Booking API (OpenAPI ``info.version`` 1.0): every
operation lives under ``/hotel-api/1.0`` on the API host. The ``/hotel-api/1.2/booking``
server of that specification is the PCI host for bookings that carry card data, which
Nexa never sends.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import httpx

from nexa_adapters.http._base import HttpAdapter
from nexa_adapters.http._resilience import (
    Classifier,
    default_error,
    parse_json,
    parse_model,
    retry_after_seconds,
)
from nexa_adapters.http.hotelbeds import dto
from nexa_core.errors import (
    InvalidInputError,
    MalformedResponseError,
    NexaError,
    ProviderNotFoundError,
    ProviderRejectedError,
    ProviderUnavailableError,
    RateLimitedError,
)
from nexa_core.model import (
    BoardBasis,
    HotelOffer,
    Money,
    PaymentMode,
    ReservationStatus,
    RoomOffer,
    RoomType,
)
from nexa_core.ports import BookingConfirmation, BookingRequest, HotelSearch
from nexa_core.urn import Urn

__all__ = ["BOARD_CODES", "HOTELBEDS_ERROR_CODES", "HotelbedsHotels", "signature"]

#: The path prefix of the published Hotel Booking API server (``hotel-api/{version}``,
#: version ``1.0``).
API_VERSION = "1.0"
API = f"/hotel-api/{API_VERSION}"
#: The geolocation ``radius`` maximum the specification publishes.
MAX_RADIUS_KM = 200

#: Hotelbeds ``error.code`` values that refine the HTTP status table.
HOTELBEDS_ERROR_CODES: Mapping[str, type[NexaError]] = {
    "INSUFFICIENT_ALLOTMENT": ProviderRejectedError,
    "PRICE_CHANGED": ProviderRejectedError,
    "PRODUCT_ERROR": ProviderRejectedError,
    "INVALID_REQUEST": ProviderRejectedError,
    "INVALID_DATA": ProviderRejectedError,
    "BOOKING_NOT_FOUND": ProviderNotFoundError,
    "SYSTEM_ERROR": ProviderUnavailableError,
}

#: Hotelbeds board codes → the canonical meal plan.
BOARD_CODES: Mapping[str, BoardBasis] = {
    "RO": BoardBasis.RO,
    "SC": BoardBasis.RO,  # self catering
    "BB": BoardBasis.BB,
    "CB": BoardBasis.BB,  # continental breakfast
    "AB": BoardBasis.BB,  # American breakfast
    "DB": BoardBasis.BB,  # buffet breakfast
    "HB": BoardBasis.HB,
    "FB": BoardBasis.FB,
    "AI": BoardBasis.AI,
    "TI": BoardBasis.AI,
}

_ROOM_PREFIX = {
    "SGL": RoomType.SGL,
    "DUS": RoomType.SGL,  # double for sole use
    "DBT": RoomType.DBL,
    "DBL": RoomType.DBL,
    "TWN": RoomType.TWN,
    "TPL": RoomType.TRP,
    "TRP": RoomType.TRP,
    "QUA": RoomType.QUAD,
    "QUD": RoomType.QUAD,
}
_STATUS = {
    "CONFIRMED": ReservationStatus.CONFIRMED,
    "CANCELLED": ReservationStatus.CANCELLED,
    "PENDING": ReservationStatus.PENDING,
}
_CENT = Decimal("0.01")


def signature(api_key: str, secret: str, unix_seconds: int) -> str:
    """``X-Signature``: hex SHA-256 of api key + secret + unix seconds."""
    return hashlib.sha256(f"{api_key}{secret}{unix_seconds}".encode()).hexdigest()


def _stars(category: str | None) -> int | None:
    if category and category[0].isdigit():
        return int(category[0])
    return None


class HotelbedsHotels(HttpAdapter):
    """HotelProvider and BookingProvider over Hotelbeds APItude."""

    vendor = "hotelbeds"
    default_base_url = "https://api.test.hotelbeds.com"

    @property
    def classify(self) -> Classifier:
        def classify(response: httpx.Response, operation: str) -> NexaError | None:
            base = default_error(response, self.vendor, operation)
            text = response.text[:500].lower()
            if response.status_code == 403 and ("quota" in text or "over qps" in text):
                return RateLimitedError(
                    f"{self.vendor} {operation}: quota exceeded",
                    **{
                        **base.context,
                        "retry_after": retry_after_seconds(response.headers.get("Retry-After")),
                    },
                )
            cls = HOTELBEDS_ERROR_CODES.get(str(base.context.get("vendor_code", "")))
            if cls is None:
                return None
            return cls(base.message, **base.context)

        return classify

    async def _call(self, method: str, path: str, tenant: Urn, operation: str, **kw: Any) -> Any:
        key = await self.secret(tenant, "api_key")
        secret = await self.secret(tenant, "secret")

        async def headers() -> dict[str, str]:
            now = int(self.clock.now().timestamp())
            return {
                "Api-key": key.reveal(),
                "X-Signature": signature(key.reveal(), secret.reveal(), now),
                "Accept": "application/json",
            }

        response = await self.http.request(
            method, API + path, tenant=tenant, operation=operation, headers=headers, **kw
        )
        return parse_json(response, self.vendor, operation)

    # ------------------------------------------------------------------ availability

    async def search(self, request: HotelSearch) -> Sequence[HotelOffer]:
        """Availability by geolocation, normalised into canonical offers."""
        body = {
            "stay": {
                "checkIn": request.check_in.isoformat(),
                "checkOut": request.check_out.isoformat(),
            },
            "occupancies": [{"rooms": request.rooms, "adults": request.rooms, "children": 0}],
            "geolocation": {
                "latitude": request.airport.latitude,
                "longitude": request.airport.longitude,
                "radius": min(float(request.radius_km), MAX_RADIUS_KM),
                "unit": "km",
            },
        }
        data = await self._call("POST", "/hotels", request.airline_urn, "availability", json=body)
        found = parse_model(dto.AvailabilityResponse, data, self.vendor, "availability")
        fetched = self.clock.now()
        out = []
        for hotel in found.hotels.hotels:
            offer = self._offer(hotel, request, fetched)
            if offer is not None:
                out.append(offer)
        return out

    def _offer(
        self, hotel: dto.Hotel, request: HotelSearch, fetched: datetime
    ) -> HotelOffer | None:
        nights = max(1, (request.check_out - request.check_in).days)
        best: dict[RoomType, tuple[Decimal, dto.Rate]] = {}
        for room in hotel.rooms:
            rt = _ROOM_PREFIX.get(room.code.split(".")[0].upper())
            if rt is None:
                continue
            for rate in room.rates:
                nightly = (rate.net / (nights * max(1, rate.rooms))).quantize(_CENT, ROUND_HALF_UP)
                if rt not in best or nightly < best[rt][0]:
                    best[rt] = (nightly, rate)
        if not best or hotel.latitude is None or hotel.longitude is None:
            return None
        rooms = tuple(
            RoomOffer(rt, rate.allotment if rate.allotment is not None else request.rooms, nightly)
            for rt, (nightly, rate) in sorted(best.items())
        )
        # the first charge of each chosen rate; a rate without terms is non-refundable
        charges = [
            min((p.from_ for p in rate.cancellationPolicies), default=fetched)
            for _, rate in best.values()
        ]
        cheapest = min(best.values(), key=lambda v: v[0])[1]
        payments = {rate.paymentType for _, rate in best.values()}
        accepted = {PaymentMode.GUARANTEE} if "AT_WEB" in payments else set()
        if "AT_HOTEL" in payments:
            accepted.add(PaymentMode.CARD)
        ext: list[tuple[str, str]] = [("hotelbeds.hotel_code", str(hotel.code))]
        for rt, (_, rate) in sorted(best.items()):
            ext.append((f"hotelbeds.rate.{rt.value}", rate.rateKey))
            ext.append((f"hotelbeds.rate_type.{rt.value}", rate.rateType))
        return HotelOffer(
            urn=Urn(
                "offer",
                f"hotelbeds-{hotel.code}-{request.check_in:%Y%m%d}-{request.check_out:%Y%m%d}",
            ),
            hotel_urn=Urn("hotel", str(hotel.code), self.vendor),
            name=hotel.name,
            address="",
            latitude=float(hotel.latitude),
            longitude=float(hotel.longitude),
            stars=_stars(hotel.categoryCode),
            rooms=rooms,
            currency=hotel.currency,
            check_in=request.check_in,
            check_out=request.check_out,
            board_basis=BOARD_CODES.get((cheapest.boardCode or "RO").upper(), BoardBasis.RO),
            cancellation_deadline=min(charges) if charges else None,
            accepted_payments=frozenset(accepted or {PaymentMode.GUARANTEE}),
            external_ids=tuple(ext),
            fetched_at=fetched,
        )

    # ------------------------------------------------------------------ booking

    async def _rate_keys(self, request: BookingRequest) -> list[str]:
        ids = dict(request.offer.external_ids)
        keys = []
        for rt in request.rooms:
            key = ids.get(f"hotelbeds.rate.{rt.value}")
            if key is None:
                raise InvalidInputError(
                    f"offer {request.offer.urn} has no Hotelbeds rate for {rt.value}",
                    offer=str(request.offer.urn),
                    room_type=rt.value,
                )
            if ids.get(f"hotelbeds.rate_type.{rt.value}") == "RECHECK":
                key = await self._checkrate(request.airline_urn, key)
            keys.append(key)
        return keys

    async def _checkrate(self, tenant: Urn, rate_key: str) -> str:
        data = await self._call(
            "POST", "/checkrates", tenant, "checkrate", json={"rooms": [{"rateKey": rate_key}]}
        )
        checked = parse_model(dto.CheckRateResponse, data, self.vendor, "checkrate")
        rates = [r for room in checked.hotel.rooms for r in room.rates]
        if not rates:
            raise ProviderRejectedError(
                "hotelbeds checkrate: the rate is no longer available", vendor=self.vendor
            )
        return rates[0].rateKey

    @staticmethod
    def _client_reference(key: str) -> str:
        return "NX" + hashlib.sha256(key.encode()).hexdigest()[:18].upper()

    async def book(self, request: BookingRequest) -> BookingConfirmation:
        """CheckRate when needed, then book; replays return the first confirmation."""
        tenant = request.airline_urn
        replayed = await self.replays.booking(tenant, "hotelbeds.booking", request.idempotency_key)
        if replayed is not None:
            return replayed
        if request.offer.vendor != self.vendor:
            raise InvalidInputError(f"offer {request.offer.urn} is not a Hotelbeds offer")
        keys = await self._rate_keys(request)
        name, _, surname = request.lead_name.strip().partition(" ")
        name, surname = name[:50] or "Guest", (surname or name)[:50] or "Guest"  # 1-50 chars
        body: dict[str, Any] = {
            "holder": {"name": name, "surname": surname},
            "rooms": [
                {
                    "rateKey": key,
                    "paxes": [{"roomId": 1, "type": "AD", "name": name, "surname": surname}],
                }
                for key in keys
            ],
            "clientReference": self._client_reference(request.idempotency_key),
            "tolerance": 2.00,
        }
        if request.special_requests:
            body["remark"] = "; ".join(request.special_requests)[:500]
        data = await self._call("POST", "/bookings", tenant, "booking", json=body, idempotent=False)
        booking = parse_model(dto.BookingResponse, data, self.vendor, "booking").booking
        if booking.status.upper() != "CONFIRMED":
            raise ProviderRejectedError(
                f"hotelbeds booking: status {booking.status}", vendor=self.vendor
            )
        if booking.totalNet is None or not booking.currency:
            raise MalformedResponseError(
                "hotelbeds booking: no totalNet/currency", vendor=self.vendor
            )
        try:
            confirmation = Urn("reservation", booking.reference, self.vendor, "confirmed")
        except NexaError:
            raise MalformedResponseError(
                "hotelbeds booking: reference is not a valid id", vendor=self.vendor
            ) from None
        conf = BookingConfirmation(
            reservation_urn=request.reservation_urn,
            confirmation_urn=confirmation,
            total=Money(booking.totalNet, booking.currency),
        )
        await self.replays.remember_booking(
            tenant, "hotelbeds.booking", request.idempotency_key, conf
        )
        return conf

    async def cancel(
        self, airline_urn: Urn, confirmation_urn: Urn, *, idempotency_key: str
    ) -> None:
        """``DELETE /bookings/{reference}?cancellationFlag=CANCELLATION`` (idempotent)."""
        if await self.replays.get(airline_urn, "hotelbeds.cancel", confirmation_urn.id):
            return
        with contextlib.suppress(ProviderNotFoundError):  # already gone at the partner
            data = await self._call(
                "DELETE",
                f"/bookings/{confirmation_urn.id}",
                airline_urn,
                "cancellation",
                params={"cancellationFlag": "CANCELLATION"},
            )
            booking = parse_model(dto.BookingResponse, data, self.vendor, "cancellation").booking
            if booking.status.upper() != "CANCELLED":
                raise ProviderRejectedError(
                    f"hotelbeds cancellation: status {booking.status}", vendor=self.vendor
                )
        await self.replays.put(airline_urn, "hotelbeds.cancel", confirmation_urn.id, {"done": True})

    async def status(self, airline_urn: Urn, confirmation_urn: Urn) -> ReservationStatus:
        """``GET /bookings/{reference}``."""
        data = await self._call(
            "GET", f"/bookings/{confirmation_urn.id}", airline_urn, "booking-detail"
        )
        booking = parse_model(dto.BookingResponse, data, self.vendor, "booking-detail").booking
        status = _STATUS.get(booking.status.upper())
        if status is None:
            raise MalformedResponseError(
                f"hotelbeds: unknown booking status {booking.status}", vendor=self.vendor
            )
        return status
