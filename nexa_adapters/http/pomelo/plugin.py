"""``pomelo`` plugin: virtual prepaid cards."""

from __future__ import annotations

from typing import Any

from nexa_adapters.hookspecs import Register, hookimpl
from nexa_adapters.http._base import adapter_kwargs
from nexa_adapters.http.pomelo.provider import PomeloCards


def _build(**options: Any) -> PomeloCards:
    store = options.get("store")
    return PomeloCards(
        base_url=options.get("pomelo_base_url"),
        # card balances live in the operational store (they survive restarts)
        accounts=getattr(store, "card_accounts", None),
        **adapter_kwargs(options),
    )


@hookimpl
def nexa_register_payment_providers(register: Register) -> None:
    """Pomelo Cards API."""
    register("pomelo", _build)
