"""Amadeus Self-Service hotel adapter (search, booking, cancel)."""

from nexa_adapters.http.amadeus.provider import AMADEUS_ERROR_CODES, AmadeusHotels

__all__ = ["AMADEUS_ERROR_CODES", "AmadeusHotels"]
