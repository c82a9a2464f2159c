"""Built-in ``direct`` plugin: the tenant's direct contracts as hotel and booking provider.

The factory needs the operational store (``store``) and the clock, which
:func:`nexa_adapters.bootstrap.bootstrap` passes to provider factories.
"""

from __future__ import annotations

from typing import Any

from nexa_adapters.hookspecs import Register, hookimpl
from nexa_core.errors import ConfigurationError
from nexa_core.hotels import DirectContracts
from nexa_core.runtime import SystemClock

__all__ = ["nexa_register_booking_providers", "nexa_register_hotel_providers"]


def _build(**options: Any) -> DirectContracts:
    store = options.get("store")
    if store is None:
        raise ConfigurationError("the direct-contract provider needs the operational store")
    return DirectContracts(store, options.get("clock") or SystemClock())


@hookimpl
def nexa_register_hotel_providers(register: Register) -> None:
    """Direct contracts surfaced at search time (vendor ``direct``)."""
    register("direct", _build)


@hookimpl
def nexa_register_booking_providers(register: Register) -> None:
    """Bookings against the contracts' guaranteed rooms (vendor ``direct``)."""
    register("direct", _build)
