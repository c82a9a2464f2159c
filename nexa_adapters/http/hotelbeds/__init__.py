"""Hotelbeds APItude hotel adapter (availability, checkrate, bookings, cancellation)."""

from nexa_adapters.http.hotelbeds.provider import (
    BOARD_CODES,
    HOTELBEDS_ERROR_CODES,
    HotelbedsHotels,
    signature,
)

__all__ = ["BOARD_CODES", "HOTELBEDS_ERROR_CODES", "HotelbedsHotels", "signature"]
