"""The ``acme`` plugin module named by the ``nexa`` entry point."""

from __future__ import annotations

from typing import Any

from nexa_acme_hotels.provider import AcmeHotels
from nexa_adapters.hookspecs import Register, hookimpl

_shared: dict[str, AcmeHotels] = {}


def _build(**options: Any) -> AcmeHotels:
    # search and booking share one instance so bookings see the inventory they sold
    return _shared.setdefault("acme", AcmeHotels())


@hookimpl
def nexa_register_hotel_providers(register: Register) -> None:
    """Acme hotel search."""
    register("acme", _build)


@hookimpl
def nexa_register_booking_providers(register: Register) -> None:
    """Acme bookings."""
    register("acme", _build)
