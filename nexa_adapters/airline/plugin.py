"""Built-in ``airline`` plugin: where manifests come from.

``sandbox`` (synthetic, the default), ``pnl`` (PNL/ADL teletype lists; option ``pnl_inbox``
or setting ``airline_url`` = the inbox directory) and ``pss`` (a PSS serving JSON; option
``pss_base_url`` or setting ``airline_url``).
"""

from __future__ import annotations

from typing import Any

from nexa_adapters.airline.providers import PssJsonAirline, SandboxAirline, TeletypeAirline
from nexa_adapters.hookspecs import Register, hookimpl
from nexa_adapters.http._base import adapter_kwargs


def _url(options: dict[str, Any], key: str) -> Any:
    return options.get(key) or getattr(options.get("settings"), "airline_url", None)


@hookimpl
def nexa_register_airline_providers(register: Register) -> None:
    """Sandbox, PNL/ADL teletype and PSS JSON airlines."""
    register("sandbox", lambda **o: SandboxAirline(seed=o.get("seed", 7)))
    register(
        "pnl",
        lambda **o: TeletypeAirline(
            _url(o, "pnl_inbox"), clock=o.get("clock"), pnr_vendor=o.get("pnr_vendor", "pss")
        ),
    )
    register(
        "pss", lambda **o: PssJsonAirline(base_url=_url(o, "pss_base_url"), **adapter_kwargs(o))
    )
