"""Acme Hotels: a tiny in-memory partner implementing HotelProvider and BookingProvider.

A real plugin would call the partner's API here (see ``nexa_adapters.http`` for the shared
resilience layer). What matters for certification is the behaviour the ports promise:
canonical offers tagged with the vendor, confirmation URNs
``urn:reservation:<confirmation>:vendor:acme:status:confirmed``, replays by idempotency key,
idempotent cancels and typed errors.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal

import attrs

from nexa_core.errors import InvalidInputError, NotFoundError, ProviderRejectedError
from nexa_core.model import (
    BoardBasis,
    HotelOffer,
    Money,
    ReservationStatus,
    RoomOffer,
    RoomType,
)
from nexa_core.ports import BookingConfirmation, BookingRequest, HotelSearch
from nexa_core.urn import Urn

__all__ = ["AcmeHotels"]

#: (property code, name, km north, km east, stars, nightly USD for SGL/DBL, rooms of each)
_PROPERTIES = (
    ("ACM001", "Acme Airport Inn", 1.0, -0.5, 3, ("89.00", "104.00"), 12),
    ("ACM002", "Acme Grand", 6.0, 4.0, 4, ("129.00", "149.00"), 8),
)


class AcmeHotels:
    """Both hotel ports for the Acme chain."""

    def __init__(self, name: str = "acme") -> None:
        self.name = name
        self._bookings: dict[str, BookingConfirmation] = {}
        self._status: dict[str, ReservationStatus] = {}
        self._sold: dict[str, int] = {}

    async def search(self, request: HotelSearch) -> Sequence[HotelOffer]:
        """Every Acme property around the airport."""
        out = []
        for code, name, north, east, stars, (sgl, dbl), rooms in _PROPERTIES:
            left = max(0, rooms - self._sold.get(code, 0))
            out.append(
                HotelOffer(
                    urn=Urn(
                        "offer", f"acme-{code}-{request.check_in:%Y%m%d}-{request.check_out:%Y%m%d}"
                    ),
                    hotel_urn=Urn("hotel", code, self.name),
                    name=name,
                    address=f"{name}, near {request.airport.iata}",
                    latitude=request.airport.latitude + north / 111.0,
                    longitude=request.airport.longitude + east / 111.0,
                    stars=stars,
                    rooms=(RoomOffer(RoomType.SGL, left, sgl), RoomOffer(RoomType.DBL, left, dbl)),
                    currency="USD",
                    check_in=request.check_in,
                    check_out=request.check_out,
                    board_basis=BoardBasis.BB,
                    fetched_at=datetime.now(UTC),
                )
            )
        return out

    async def book(self, request: BookingRequest) -> BookingConfirmation:
        """Book rooms of an Acme offer; a replayed key returns the first confirmation."""
        first = self._bookings.get(request.idempotency_key)
        if first is not None:
            return attrs.evolve(first, replayed=True)
        if request.offer.vendor != self.name:
            raise InvalidInputError(f"{request.offer.urn} is not an Acme offer")
        code = request.offer.hotel_urn.id
        capacity = {p[0]: p[6] for p in _PROPERTIES}.get(code, 0)
        if self._sold.get(code, 0) + len(request.rooms) > capacity:
            raise ProviderRejectedError("acme: sold out", vendor=self.name)
        rates = {r.room_type: r.nightly_rate for r in request.offer.rooms}
        total = sum((rates[t] for t in request.rooms), Decimal(0)) * max(1, request.offer.nights)
        conf_no = "AC" + hashlib.sha256(request.idempotency_key.encode()).hexdigest()[:8].upper()
        conf = BookingConfirmation(
            reservation_urn=request.reservation_urn,
            confirmation_urn=Urn("reservation", conf_no, self.name, "confirmed"),
            total=Money(total, request.offer.currency),
        )
        self._sold[code] = self._sold.get(code, 0) + len(request.rooms)
        self._bookings[request.idempotency_key] = conf
        self._status[conf_no] = ReservationStatus.CONFIRMED
        return conf

    async def cancel(
        self, airline_urn: Urn, confirmation_urn: Urn, *, idempotency_key: str
    ) -> None:
        """Cancel (a second cancel is a no-op)."""
        if confirmation_urn.id not in self._status:
            raise NotFoundError(f"acme: no booking {confirmation_urn.id}")
        self._status[confirmation_urn.id] = ReservationStatus.CANCELLED

    async def status(self, airline_urn: Urn, confirmation_urn: Urn) -> ReservationStatus:
        """CONFIRMED or CANCELLED; NotFoundError for unknown bookings."""
        try:
            return self._status[confirmation_urn.id]
        except KeyError:
            raise NotFoundError(f"acme: no booking {confirmation_urn.id}") from None
