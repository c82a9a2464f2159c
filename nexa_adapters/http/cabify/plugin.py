"""``cabify`` plugin: ground transport."""

from __future__ import annotations

from nexa_adapters.hookspecs import Register, hookimpl
from nexa_adapters.http._base import adapter_kwargs
from nexa_adapters.http.cabify.provider import CabifyRides


@hookimpl
def nexa_register_transport_providers(register: Register) -> None:
    """Cabify for Business."""
    register(
        "cabify", lambda **o: CabifyRides(base_url=o.get("cabify_base_url"), **adapter_kwargs(o))
    )
