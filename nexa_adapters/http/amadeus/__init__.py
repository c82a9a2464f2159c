"""Amadeus Self-Service hotel adapter (search, booking, cancel)."""

from nexa_adapters.http.amadeus.provider import (
    AMADEUS_ERROR_CODES,
    PUBLISHED_OPERATIONS,
    UNPUBLISHED_OPERATIONS,
    AmadeusHotels,
)

__all__ = ["AMADEUS_ERROR_CODES", "PUBLISHED_OPERATIONS", "UNPUBLISHED_OPERATIONS", "AmadeusHotels"]
