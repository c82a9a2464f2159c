"""``pomelo`` plugin: virtual prepaid cards."""

from __future__ import annotations

from nexa_adapters.hookspecs import Register, hookimpl
from nexa_adapters.http._base import adapter_kwargs
from nexa_adapters.http.pomelo.provider import PomeloCards


@hookimpl
def nexa_register_payment_providers(register: Register) -> None:
    """Pomelo Cards API."""
    register(
        "pomelo", lambda **o: PomeloCards(base_url=o.get("pomelo_base_url"), **adapter_kwargs(o))
    )
