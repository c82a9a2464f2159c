"""Pydantic DTOs for the Amadeus Self-Service payloads Nexa reads (unknown fields ignored).

Dates and date-times are typed, so a malformed value in a 200 is a contract violation
(:class:`~nexa_core.errors.MalformedResponseError` naming the field), never a ``ValueError``
deep inside the normalisation.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class _M(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class TokenResponse(_M):
    """``POST /v1/security/oauth2/token``."""

    access_token: str = Field(min_length=1)
    token_type: str = "Bearer"
    expires_in: int = Field(gt=0)


class GeoCode(_M):
    latitude: float
    longitude: float


class HotelListItem(_M):
    """One hotel of ``/v1/reference-data/locations/hotels/by-geocode``."""

    hotelId: str = Field(min_length=1)
    name: str
    chainCode: str | None = None
    geoCode: GeoCode | None = None
    rating: int | None = None


class HotelList(_M):
    data: list[HotelListItem] = []


class TypeEstimated(_M):
    category: str | None = None
    beds: int | None = None
    bedType: str | None = None


class Room(_M):
    type: str | None = None
    typeEstimated: TypeEstimated | None = None


class Price(_M):
    currency: str = Field(min_length=3, max_length=3)
    total: Decimal  # a string in the payload; Decimal keeps every digit
    base: Decimal | None = None


class Cancellation(_M):
    """``HotelProduct_CancellationPolicy``: the penalty from ``deadline`` on (a
    ``FULL_STAY`` entry without a deadline: the rate is non-refundable)."""

    type: str | None = None
    deadline: AwareDatetime | None = None
    amount: Decimal | None = None
    numberOfNights: int | None = Field(default=None, ge=0)
    percentage: Decimal | None = None


class Policies(_M):
    """Booking rules. The schema publishes ``cancellations[]``; the published examples
    carry a single ``cancellation`` object. Both are read."""

    paymentType: str | None = None
    cancellations: list[Cancellation] = []
    cancellation: Cancellation | None = None

    def cancellation_terms(self) -> list[Cancellation]:
        """Every cancellation entry, from either form."""
        return [*self.cancellations, *([self.cancellation] if self.cancellation else [])]


class Guests(_M):
    adults: int = 1


class Offer(_M):
    id: str = Field(min_length=1)
    checkInDate: date
    checkOutDate: date
    roomQuantity: int | None = None
    boardType: str | None = None
    room: Room | None = None
    guests: Guests | None = None
    price: Price
    policies: Policies | None = None


class OfferHotel(_M):
    hotelId: str = Field(min_length=1)
    name: str
    chainCode: str | None = None
    latitude: float | None = None
    longitude: float | None = None


class HotelOffers(_M):
    type: str = "hotel-offers"
    hotel: OfferHotel
    available: bool = True
    offers: list[Offer] = []


class HotelOffersResponse(_M):
    """``GET /v3/shopping/hotel-offers``."""

    data: list[HotelOffers] = []


class ProviderInfo(_M):
    hotelProviderCode: str | None = None
    confirmationNumber: str = Field(min_length=1)


class BookingOfferPrice(_M):
    currency: str = Field(min_length=3, max_length=3)
    total: Decimal


class BookingOffer(_M):
    id: str | None = None
    price: BookingOfferPrice


#: ``HotelBooking.bookingStatus`` as the Hotel Booking v2 schema enumerates it.
BookingStatus = Literal[
    "CONFIRMED",
    "PENDING",
    "CANCELLED",
    "ON_HOLD",
    "PAST",
    "UNCONFIRMED",
    "DENIED",
    "GHOST",
    "DELETED",
]


class HotelBooking(_M):
    type: str = "hotel-booking"
    id: str
    bookingStatus: BookingStatus
    hotelProviderInformation: list[ProviderInfo] = Field(min_length=1)
    hotelOffer: BookingOffer


class HotelOrder(_M):
    type: str = "hotel-order"
    id: str = Field(min_length=1)
    hotelBookings: list[HotelBooking] = Field(min_length=1)


class HotelOrderResponse(_M):
    """``POST /v2/booking/hotel-orders`` and ``GET …/{id}``."""

    data: HotelOrder
