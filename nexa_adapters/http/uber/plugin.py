"""``uber`` plugin: ground transport."""

from __future__ import annotations

from nexa_adapters.hookspecs import Register, hookimpl
from nexa_adapters.http._base import adapter_kwargs
from nexa_adapters.http.uber.provider import UberRides


@hookimpl
def nexa_register_transport_providers(register: Register) -> None:
    """Uber Guest Rides."""
    register("uber", lambda **o: UberRides(base_url=o.get("uber_base_url"), **adapter_kwargs(o)))
