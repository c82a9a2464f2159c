"""Amadeus Self-Service hotels: Hotel List by geocode, Hotel Search v3, Hotel Booking v2.

Credentials per tenant (``nexa/<tenant>/vendor/amadeus/<name>``): ``client_id``,
``client_secret`` (OAuth2 client credentials) and, for bookings paid by the airline's
guarantee card, ``card_vendor_code``, ``card_token`` (a network/vault token, never a PAN)
and ``card_expiry`` (``YYYY-MM``). A booking request's own ``card_token`` (a virtual card)
wins over the tenant's guarantee card.

Wire format as Amadeus publishes it (``amadeus4dev/amadeus-open-api-specification``):
media type ``application/vnd.amadeus+json``; ``hotelIds`` at most 20 per Hotel Search
call; ``roomQuantity`` 1-9; guests' ``phone`` at least 2 characters (omitted when
unknown); names in the Latin letters the booking schema allows. The public Hotel Booking
v2 specification publishes only ``POST /v2/booking/hotel-orders``: retrieving
(``GET``) and cancelling (``DELETE``) an order on the order's ``self`` link are **not in
the public specification** and are modelled on it (see ``docs/adapters.md``).
"""

from __future__ import annotations

import contextlib
import json
import unicodedata
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import httpx

from nexa_adapters.http._base import HttpAdapter
from nexa_adapters.http._oauth import TokenCache
from nexa_adapters.http._resilience import (
    Classifier,
    default_error,
    parse_json,
    parse_model,
    retry_after_seconds,
)
from nexa_adapters.http.amadeus import dto
from nexa_core.errors import (
    InvalidInputError,
    MalformedResponseError,
    NexaError,
    NotFoundError,
    ProviderAuthError,
    ProviderNotFoundError,
    ProviderRejectedError,
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

__all__ = ["AMADEUS_ERROR_CODES", "PUBLISHED_OPERATIONS", "UNPUBLISHED_OPERATIONS", "AmadeusHotels"]

#: Amadeus error codes (``errors[].code``) that refine the HTTP status table.
AMADEUS_ERROR_CODES: Mapping[str, type[NexaError]] = {
    "38190": ProviderAuthError,  # invalid access token (after our one refresh)
    "38194": RateLimitedError,  # too many requests
    "3664": ProviderRejectedError,  # no rooms available at requested property
    "3494": ProviderRejectedError,  # rate not available / changed
    "11": ProviderRejectedError,  # price discrepancy
    "1257": ProviderRejectedError,  # invalid property code
}

_BOARD = {
    "ROOM_ONLY": BoardBasis.RO,
    "BREAKFAST": BoardBasis.BB,
    "HALF_BOARD": BoardBasis.HB,
    "FULL_BOARD": BoardBasis.FB,
    "ALL_INCLUSIVE": BoardBasis.AI,
}
#: every ``bookingStatus`` of the Hotel Booking v2 schema → the canonical status
_STATUS: Mapping[str, ReservationStatus] = {
    "CONFIRMED": ReservationStatus.CONFIRMED,
    "CANCELLED": ReservationStatus.CANCELLED,
    "DELETED": ReservationStatus.CANCELLED,
    "PENDING": ReservationStatus.PENDING,
    "ON_HOLD": ReservationStatus.PENDING,
    "PAST": ReservationStatus.CONFIRMED,
    "DENIED": ReservationStatus.FAILED,
    "UNCONFIRMED": ReservationStatus.FAILED,  # confirmation finally refused by the hotel
    "GHOST": ReservationStatus.PENDING,  # a passive segment: a person must look
}
_CENT = Decimal("0.01")

#: The media type the Amadeus specifications declare (consumes and produces).
MEDIA_TYPE = "application/vnd.amadeus+json"
#: Hotel Search v3 ``hotelIds``: ``maxItems: 20``.
HOTEL_IDS_PER_CALL = 20
#: Hotel Search v3 ``roomQuantity``: 1-9.
MAX_ROOM_QUANTITY = 9
#: Operations Nexa calls that the public API specifications publish (the OAuth2 token
#: endpoint ``POST /v1/security/oauth2/token`` is described by the authorization guide).
PUBLISHED_OPERATIONS = frozenset(
    {
        "GET /v1/reference-data/locations/hotels/by-geocode",
        "GET /v3/shopping/hotel-offers",
        "POST /v2/booking/hotel-orders",
    }
)
#: Operations Nexa calls that the public specifications do not publish (modelled on the
#: order's ``self`` link).
UNPUBLISHED_OPERATIONS = frozenset(
    {"GET /v2/booking/hotel-orders/{id}", "DELETE /v2/booking/hotel-orders/{id}"}
)


def _latin(text: str, max_len: int) -> str:
    """A name as the booking schema accepts it: Latin letters, spaces and hyphens."""
    plain = unicodedata.normalize("NFKD", text)
    kept = "".join(c for c in plain if c.isascii() and (c.isalpha() or c in " -"))
    return " ".join(kept.split())[:max_len].strip()


def _charge_from(policies: dto.Policies | None, fetched: datetime) -> datetime:
    """The first moment cancelling costs money.

    The earliest published deadline; a ``FULL_STAY`` penalty without a deadline, or no
    terms at all, means non-refundable: charged from the moment of the search.
    """
    terms = policies.cancellation_terms() if policies else []
    deadlines = [t.deadline for t in terms if t.deadline is not None]
    if not deadlines:
        return fetched
    return min([*deadlines, *([fetched] if any(t.deadline is None for t in terms) else [])])


def _room_type(room: dto.Room | None, adults: int) -> RoomType:
    est = room.typeEstimated if room else None
    bed = (est.bedType or "").upper() if est else ""
    beds = est.beds if est and est.beds else 1
    if bed == "SINGLE" or (adults == 1 and beds == 1 and bed not in ("DOUBLE", "QUEEN", "KING")):
        return RoomType.SGL
    if beds >= 2 or bed == "TWIN":
        return {2: RoomType.TWN, 3: RoomType.TRP}.get(
            beds, RoomType.QUAD if beds > 3 else RoomType.TWN
        )
    return RoomType.DBL


class AmadeusHotels(HttpAdapter):
    """HotelProvider and BookingProvider over the Amadeus Self-Service APIs."""

    vendor = "amadeus"
    default_base_url = "https://test.api.amadeus.com"
    max_hotels = 40  # hotels priced per search, in batches of HOTEL_IDS_PER_CALL

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.tokens = TokenCache(self._fetch_token, clock=self.clock)

    # ------------------------------------------------------------------ plumbing

    @property
    def classify(self) -> Classifier:
        def classify(response: httpx.Response, operation: str) -> NexaError | None:
            base = default_error(response, self.vendor, operation)
            code = str(base.context.get("vendor_code", ""))
            cls = AMADEUS_ERROR_CODES.get(code)
            if cls is None or response.status_code >= 500:
                return None
            if cls is RateLimitedError:
                return RateLimitedError(
                    base.message,
                    **{
                        **base.context,
                        "retry_after": retry_after_seconds(response.headers.get("Retry-After")),
                    },
                )
            return cls(base.message, **base.context)

        return classify

    async def _fetch_token(self, tenant: Urn) -> tuple[str, float]:
        cid, secret = (
            await self.secret(tenant, "client_id"),
            await self.secret(tenant, "client_secret"),
        )
        response = await self.http.request(
            "POST",
            "/v1/security/oauth2/token",
            tenant=tenant,
            operation="oauth2.token",
            data={
                "grant_type": "client_credentials",
                "client_id": cid.reveal(),
                "client_secret": secret.reveal(),
            },
        )
        token = parse_model(
            dto.TokenResponse,
            parse_json(response, self.vendor, "oauth2.token"),
            self.vendor,
            "oauth2.token",
        )
        return token.access_token, float(token.expires_in)

    async def _call(
        self, method: str, path: str, tenant: Urn, operation: str, **kw: Any
    ) -> httpx.Response:
        body = kw.pop("json", None)
        if body is not None:  # sent as the declared media type, not application/json
            kw["content"] = json.dumps(body, separators=(",", ":")).encode()

        async def headers() -> dict[str, str]:
            out = {
                "Authorization": f"Bearer {await self.tokens.token(tenant)}",
                "Accept": MEDIA_TYPE,
            }
            if body is not None:
                out["Content-Type"] = MEDIA_TYPE
            return out

        async def refresh() -> None:
            await self.tokens.invalidate(tenant)

        return await self.http.request(
            method, path, tenant=tenant, operation=operation, headers=headers, refresh=refresh, **kw
        )

    # ------------------------------------------------------------------ search

    async def search(self, request: HotelSearch) -> Sequence[HotelOffer]:
        """Hotels within the radius, then their offers, as canonical offers."""
        tenant = request.airline_urn
        listing = await self._call(
            "GET",
            "/v1/reference-data/locations/hotels/by-geocode",
            tenant,
            "hotel-list",
            params={
                "latitude": f"{request.airport.latitude:.5f}",
                "longitude": f"{request.airport.longitude:.5f}",
                "radius": str(min(300, max(1, int(request.radius_km)))),  # the spec: 1-300
                "radiusUnit": "KM",
                "hotelSource": "ALL",
            },
        )
        hotels = parse_model(
            dto.HotelList, parse_json(listing, self.vendor, "hotel-list"), self.vendor, "hotel-list"
        )
        if not hotels.data:
            return []
        by_id = {h.hotelId: h for h in hotels.data[: self.max_hotels]}
        ids = list(by_id)
        quantity = min(max(1, request.rooms), MAX_ROOM_QUANTITY)
        found: list[dto.HotelOffers] = []
        for start in range(0, len(ids), HOTEL_IDS_PER_CALL):
            found.extend(
                await self._search_batch(request, ids[start : start + HOTEL_IDS_PER_CALL], quantity)
            )
        fetched = self.clock.now()
        return [
            self._offer(item, by_id.get(item.hotel.hotelId), request, quantity, fetched)
            for item in found
            if item.available and item.offers
        ]

    async def _search_batch(
        self, request: HotelSearch, hotel_ids: list[str], quantity: int
    ) -> list[dto.HotelOffers]:
        try:
            response = await self._call(
                "GET",
                "/v3/shopping/hotel-offers",
                request.airline_urn,
                "hotel-search",
                params={
                    "hotelIds": ",".join(hotel_ids),
                    "adults": "1",
                    "checkInDate": request.check_in.isoformat(),
                    "checkOutDate": request.check_out.isoformat(),
                    "roomQuantity": str(quantity),
                    "currency": request.currency,
                    "bestRateOnly": "false",
                },
            )
        except ProviderRejectedError as exc:
            if exc.context.get("vendor_code") == "3664":  # no rooms at any hotel of the batch
                return []
            raise
        return parse_model(
            dto.HotelOffersResponse,
            parse_json(response, self.vendor, "hotel-search"),
            self.vendor,
            "hotel-search",
        ).data

    def _offer(
        self,
        item: dto.HotelOffers,
        listed: dto.HotelListItem | None,
        request: HotelSearch,
        quantity: int,
        fetched: datetime,
    ) -> HotelOffer:
        nights = max(1, (request.check_out - request.check_in).days)
        best: dict[RoomType, tuple[Decimal, dto.Offer]] = {}
        currency = item.offers[0].price.currency
        for offer in item.offers:
            if offer.price.currency != currency:  # never mix currencies in one offer
                continue
            qty = offer.roomQuantity or quantity
            nightly = (offer.price.total / (nights * qty)).quantize(_CENT, ROUND_HALF_UP)
            rt = _room_type(offer.room, offer.guests.adults if offer.guests else 1)
            if rt not in best or nightly < best[rt][0]:
                best[rt] = (nightly, offer)
        first = min(best.values(), key=lambda v: v[0])[1]
        # unknown terms are non-refundable, never freely cancellable
        charge_from = min(_charge_from(o.policies, fetched) for _, o in best.values())
        payment_types = {
            (o.policies.paymentType or "").lower() for _, o in best.values() if o.policies
        }
        accepted = (
            {PaymentMode.GUARANTEE} if "guarantee" in payment_types or not payment_types else set()
        )
        if payment_types & {"deposit", "prepay"}:
            accepted.add(PaymentMode.CARD)
        lat = (
            item.hotel.latitude
            if item.hotel.latitude is not None
            else (listed.geoCode.latitude if listed and listed.geoCode else 0.0)
        )
        lon = (
            item.hotel.longitude
            if item.hotel.longitude is not None
            else (listed.geoCode.longitude if listed and listed.geoCode else 0.0)
        )
        return HotelOffer(
            urn=Urn("offer", f"amadeus-{first.id}"),
            hotel_urn=Urn("hotel", item.hotel.hotelId, self.vendor),
            name=item.hotel.name,
            address="",
            latitude=lat,
            longitude=lon,
            stars=listed.rating if listed else None,
            rooms=tuple(
                RoomOffer(rt, o.roomQuantity or quantity, nightly)
                for rt, (nightly, o) in sorted(best.items())
            ),
            currency=first.price.currency,
            check_in=first.checkInDate,
            check_out=first.checkOutDate,
            chain=item.hotel.chainCode,
            board_basis=_BOARD.get((first.boardType or "ROOM_ONLY").upper(), BoardBasis.RO),
            cancellation_deadline=charge_from,
            accepted_payments=frozenset(accepted),
            external_ids=tuple(
                [("amadeus.hotel_id", item.hotel.hotelId)]
                + [(f"amadeus.offer.{rt.value}", o.id) for rt, (_, o) in sorted(best.items())]
            ),
            fetched_at=fetched,
        )

    # ------------------------------------------------------------------ booking

    async def _payment(self, request: BookingRequest) -> dict[str, Any]:
        tenant = request.airline_urn
        token = request.card_token
        if token is None:
            token = (await self.secret(tenant, "card_token")).reveal()
        return {
            "method": "CREDIT_CARD",
            "paymentCard": {
                "paymentCardInfo": {
                    "vendorCode": (await self.secret(tenant, "card_vendor_code")).reveal(),
                    "cardNumber": token,
                    "expiryDate": (await self.secret(tenant, "card_expiry")).reveal(),
                    # the lead passenger holds the reservation (and its form of payment)
                    "holderName": _latin(request.lead_name, 99) or "GUEST",
                }
            },
        }

    def _offer_ids(self, request: BookingRequest) -> list[str]:
        ids = dict(request.offer.external_ids)
        out = []
        for rt in request.rooms:
            offer_id = ids.get(f"amadeus.offer.{rt.value}")
            if offer_id is None:
                raise InvalidInputError(
                    f"offer {request.offer.urn} has no Amadeus offer for room type {rt.value}",
                    offer=str(request.offer.urn),
                    room_type=rt.value,
                )
            out.append(offer_id)
        return out

    async def book(self, request: BookingRequest) -> BookingConfirmation:
        """Book with Hotel Booking v2; a replayed key returns the first confirmation."""
        tenant = request.airline_urn
        replayed = await self.replays.booking(tenant, "amadeus.booking", request.idempotency_key)
        if replayed is not None:
            return replayed
        if request.offer.vendor != self.vendor:
            raise InvalidInputError(f"offer {request.offer.urn} is not an Amadeus offer")
        offer_ids = self._offer_ids(request)
        first, _, last = _latin(request.lead_name, 120).rpartition(" ")
        last = last or "GUEST"
        associations: list[dict[str, Any]] = [
            {"guestReferences": [{"guestReference": "1"}], "hotelOfferId": oid} for oid in offer_ids
        ]
        remark = "; ".join(request.special_requests)[:120].strip()
        if len(remark) >= 2:  # the schema's specialRequest is 2-120 characters
            associations[0]["specialRequest"] = remark
        guest: dict[str, Any] = {
            "tid": 1,
            "firstName": (first or last)[:56],
            "lastName": last[:57],
            "email": request.lead_contact.email,
        }
        if request.lead_contact.phone and len(request.lead_contact.phone) >= 2:
            guest["phone"] = request.lead_contact.phone  # omitted when unknown (minLength 2)
        body = {
            "data": {
                "type": "hotel-order",
                "guests": [guest],
                "travelAgent": {"contact": {"email": request.lead_contact.email}},
                "roomAssociations": associations,
                "payment": await self._payment(request),
            }
        }
        # a booking is never retried blindly: a lost answer could mean a booked room
        response = await self._call(
            "POST", "/v2/booking/hotel-orders", tenant, "hotel-booking", json=body, idempotent=False
        )
        order = parse_model(
            dto.HotelOrderResponse,
            parse_json(response, self.vendor, "hotel-booking"),
            self.vendor,
            "hotel-booking",
        ).data
        booking = order.hotelBookings[0]
        if _STATUS[booking.bookingStatus] != ReservationStatus.CONFIRMED:
            raise ProviderRejectedError(
                f"amadeus hotel-booking: status {booking.bookingStatus}",
                vendor=self.vendor,
                status=booking.bookingStatus,
            )
        conf_no = booking.hotelProviderInformation[0].confirmationNumber
        try:
            confirmation = Urn("reservation", conf_no, self.vendor, "confirmed")
        except NexaError:
            raise MalformedResponseError(
                "amadeus hotel-booking: confirmation number is not a valid id", vendor=self.vendor
            ) from None
        total = sum((b.hotelOffer.price.total for b in order.hotelBookings), Decimal(0))
        conf = BookingConfirmation(
            reservation_urn=request.reservation_urn,
            confirmation_urn=confirmation,
            total=Money(total, booking.hotelOffer.price.currency),
        )
        await self.replays.put(tenant, "amadeus.order", conf_no, {"order_id": order.id})
        await self.replays.remember_booking(
            tenant, "amadeus.booking", request.idempotency_key, conf
        )
        return conf

    async def _order_id(self, tenant: Urn, confirmation_urn: Urn) -> str:
        found = await self.replays.get(tenant, "amadeus.order", confirmation_urn.id)
        if found is None:
            raise NotFoundError(
                f"no Amadeus order known for {confirmation_urn}", urn=str(confirmation_urn)
            )
        return str(found["order_id"])

    async def cancel(
        self, airline_urn: Urn, confirmation_urn: Urn, *, idempotency_key: str
    ) -> None:
        """Cancel the hotel order (a second cancel is a no-op).

        ``DELETE`` on the order's ``self`` link: not in the public specification (modelled).
        """
        if await self.replays.get(airline_urn, "amadeus.cancel", confirmation_urn.id):
            return
        order_id = await self._order_id(airline_urn, confirmation_urn)
        with contextlib.suppress(ProviderNotFoundError):  # already gone at the partner
            await self._call(
                "DELETE", f"/v2/booking/hotel-orders/{order_id}", airline_urn, "hotel-cancel"
            )
        await self.replays.put(airline_urn, "amadeus.cancel", confirmation_urn.id, {"done": True})

    async def status(self, airline_urn: Urn, confirmation_urn: Urn) -> ReservationStatus:
        """The partner's view of the reservation.

        ``GET`` on the order's ``self`` link: not in the public specification (modelled).
        """
        order_id = await self._order_id(airline_urn, confirmation_urn)
        response = await self._call(
            "GET", f"/v2/booking/hotel-orders/{order_id}", airline_urn, "hotel-status"
        )
        order = parse_model(
            dto.HotelOrderResponse,
            parse_json(response, self.vendor, "hotel-status"),
            self.vendor,
            "hotel-status",
        ).data
        return _STATUS[order.hotelBookings[0].bookingStatus]
