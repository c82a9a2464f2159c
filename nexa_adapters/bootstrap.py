"""The composition root: the only place that chooses concrete adapters."""

from __future__ import annotations

from typing import Any

import attrs
import pluggy

from nexa_adapters.plugins import collect, get_plugin_manager
from nexa_adapters.settings import Settings
from nexa_core.errors import ConfigurationError
from nexa_core.ports import Clock, IdGenerator
from nexa_core.runtime import SystemClock, UuidIds
from nexa_core.urn import VendorRegistry

__all__ = ["Nexa", "bootstrap"]


@attrs.define
class Nexa:
    """Everything an application service needs, wired once."""

    settings: Settings
    plugins: pluggy.PluginManager
    clock: Clock
    ids: IdGenerator
    store: Any
    snapshots: Any
    coordination: Any
    hotel_providers: dict[str, Any]
    booking: VendorRegistry[Any]
    payments: Any
    transport: dict[str, Any]
    notifications: dict[str, Any]
    engine: Any = None
    extras: dict[str, Any] = attrs.field(factory=dict)

    async def aclose(self) -> None:
        """Close stores and connections."""
        for res in (self.store, self.snapshots, self.coordination):
            close = getattr(res, "close", None)
            if close is not None:
                await close()


def _from_url(pm: pluggy.PluginManager, hook: str, url: str, options: dict[str, Any]) -> Any:
    result = getattr(pm.hook, hook)(url=url, options=options)
    if result is None:
        raise ConfigurationError(f"no plugin handles {url!r} for {hook}", url=url, hook=hook)
    return result


def _pick(
    pm: pluggy.PluginManager, hook: str, names: tuple[str, ...], options: dict[str, Any]
) -> dict[str, Any]:
    factories = collect(pm, hook)
    out: dict[str, Any] = {}
    for name in names:
        if name not in factories:
            raise ConfigurationError(
                f"{hook}: no provider named {name!r} (have {sorted(factories)})", name=name
            )
        out[name] = factories[name](**options)
    return out


def bootstrap(
    settings: Settings | None = None,
    *,
    plugins: pluggy.PluginManager | None = None,
    clock: Clock | None = None,
    ids: IdGenerator | None = None,
    optional: tuple[str, ...] = ("coordination", "engine"),
    **overrides: Any,
) -> Nexa:
    """Build adapters from settings; ``overrides`` replace any attribute of :class:`Nexa`.

    Nothing connects before this is called. Components named in ``optional`` are left
    ``None`` when no plugin handles their URL (useful for library embedding and tests).
    """
    settings = settings or Settings.load()
    pm = plugins or get_plugin_manager()
    clock = clock or SystemClock()
    ids = ids or UuidIds()
    options: dict[str, Any] = {
        "settings": settings,
        "clock": clock,
        "ids": ids,
        "seed": settings.seed,
    }
    options.update(overrides.pop("provider_options", {}))

    def build(name: str, hook: str, url: str) -> Any:
        if name in overrides:
            return overrides.pop(name)
        try:
            return _from_url(pm, hook, url, options)
        except ConfigurationError:
            if name in optional:
                return None
            raise

    store = build("store", "nexa_store_from_url", settings.store_url)
    snapshots = build("snapshots", "nexa_snapshot_store_from_url", settings.snapshot_url)
    coordination = build("coordination", "nexa_coordination_from_url", settings.coordination_url)
    if coordination is not None:  # partner adapters take rate limits and breakers from it
        options.setdefault("coordination", coordination)
    if store is not None:  # the direct-contract provider reads contracts from it
        options.setdefault("store", store)
    idempotency = getattr(store, "idempotency", None)
    if idempotency is not None:  # ...and remember replays in the operational store
        options.setdefault("idempotency", idempotency)
    hotels = overrides.pop("hotel_providers", None) or _pick(
        pm, "nexa_register_hotel_providers", settings.hotel_providers, options
    )
    booking = overrides.pop("booking", None) or VendorRegistry(
        _pick(pm, "nexa_register_booking_providers", settings.booking_providers, options)
    )
    payments = (
        overrides.pop("payments", None)
        or _pick(pm, "nexa_register_payment_providers", (settings.payment_provider,), options)[
            settings.payment_provider
        ]
    )
    transport = overrides.pop("transport", None) or _pick(
        pm, "nexa_register_transport_providers", settings.transport_providers, options
    )
    notifications = overrides.pop("notifications", None) or _pick(
        pm, "nexa_register_notification_providers", settings.notification_providers, options
    )
    nexa = Nexa(
        settings=settings,
        plugins=pm,
        clock=clock,
        ids=ids,
        store=store,
        snapshots=snapshots,
        coordination=coordination,
        hotel_providers=hotels,
        booking=booking,
        payments=payments,
        transport=transport,
        notifications=notifications,
    )
    engine_override = overrides.pop("engine", None)
    nexa.engine = engine_override or build("engine", "nexa_engine_from_url", settings.engine_url)
    if overrides:
        raise ConfigurationError(f"unknown bootstrap overrides: {sorted(overrides)}")
    _wire_security_and_observability(nexa)
    return nexa


def _wire_security_and_observability(nexa: Nexa) -> None:
    """Denials go to the store's audit log; metrics/spans per settings (logging untouched)."""
    from nexa_adapters.observability.setup import install_runtime_observability
    from nexa_core.auth import AuditDenialSink, install_denial_sink

    nexa.extras["observability"] = install_runtime_observability(nexa.settings)
    audit = getattr(nexa.store, "audit", None)
    if audit is not None:
        install_denial_sink(AuditDenialSink(audit, nexa.clock, nexa.ids))
