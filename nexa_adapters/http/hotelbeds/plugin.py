"""``hotelbeds`` plugin: hotel search and booking over Hotelbeds APItude."""

from __future__ import annotations

from typing import Any

from nexa_adapters.hookspecs import Register, hookimpl
from nexa_adapters.http._base import adapter_kwargs
from nexa_adapters.http.hotelbeds.provider import HotelbedsHotels


def _build(**options: Any) -> HotelbedsHotels:
    return HotelbedsHotels(base_url=options.get("hotelbeds_base_url"), **adapter_kwargs(options))


@hookimpl
def nexa_register_hotel_providers(register: Register) -> None:
    """Hotelbeds availability."""
    register("hotelbeds", _build)


@hookimpl
def nexa_register_booking_providers(register: Register) -> None:
    """Hotelbeds checkrate + bookings + cancellation."""
    register("hotelbeds", _build)
