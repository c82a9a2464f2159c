"""Pydantic DTOs for the Hotelbeds APItude Booking API (only the fields Nexa reads)."""

from __future__ import annotations

from decimal import Decimal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class _M(BaseModel):
    model_config = ConfigDict(extra="ignore")


class CancellationPolicy(_M):
    amount: Decimal
    # ``from``: the moment from which ``amount`` is charged (a malformed one is a
    # contract violation, reported as MalformedResponseError naming the field)
    from_: AwareDatetime = Field(alias="from")


class Rate(_M):
    rateKey: str = Field(min_length=1)
    rateType: str = "BOOKABLE"  # or RECHECK: call /checkrates first
    net: Decimal
    allotment: int | None = None
    paymentType: str | None = None
    boardCode: str | None = None
    cancellationPolicies: list[CancellationPolicy] = []
    rooms: int = 1
    adults: int = 1


class Room(_M):
    code: str
    name: str | None = None
    rates: list[Rate] = []


class Hotel(_M):
    code: int
    name: str
    categoryCode: str | None = None
    latitude: Decimal | None = None
    longitude: Decimal | None = None
    currency: str = Field(min_length=3, max_length=3)
    rooms: list[Room] = []


class Hotels(_M):
    hotels: list[Hotel] = []
    total: int = 0


class AvailabilityResponse(_M):
    """``POST /hotel-api/1.0/hotels``."""

    hotels: Hotels


class CheckRateHotel(_M):
    rooms: list[Room] = Field(min_length=1)
    currency: str | None = None


class CheckRateResponse(_M):
    """``POST /hotel-api/1.0/checkrates``."""

    hotel: CheckRateHotel


class Booking(_M):
    reference: str = Field(min_length=1)
    clientReference: str | None = None
    status: str
    totalNet: Decimal | None = None
    currency: str | None = None


class BookingResponse(_M):
    """``POST /bookings``, ``GET /bookings/{ref}``, ``DELETE /bookings/{ref}``."""

    booking: Booking
