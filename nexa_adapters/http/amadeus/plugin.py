"""``amadeus`` plugin: hotel search and booking over Amadeus Self-Service."""

from __future__ import annotations

from typing import Any

from nexa_adapters.hookspecs import Register, hookimpl
from nexa_adapters.http._base import adapter_kwargs
from nexa_adapters.http.amadeus.provider import AmadeusHotels


def _build(**options: Any) -> AmadeusHotels:
    return AmadeusHotels(base_url=options.get("amadeus_base_url"), **adapter_kwargs(options))


@hookimpl
def nexa_register_hotel_providers(register: Register) -> None:
    """Amadeus Hotel List + Hotel Search v3."""
    register("amadeus", _build)


@hookimpl
def nexa_register_booking_providers(register: Register) -> None:
    """Amadeus Hotel Booking v2."""
    register("amadeus", _build)
