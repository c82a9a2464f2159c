"""The ``nexa`` plugin hooks.

Plugins are modules (or objects) registered under the ``nexa`` entry-point group. Each
registration hook receives a ``register(name, factory)`` callback; ``factory`` is called
by :func:`nexa_adapters.bootstrap` with keyword arguments it understands (``settings``,
``clock``, ``ids``, ``secrets``, …) and returns the adapter. Names must be unique across
plugins for a hook. The ``*_from_url`` hooks are ``firstresult``: the first plugin that
recognises the URL scheme builds the adapter; the others return ``None``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pluggy

__all__ = ["Register", "hookimpl", "hookspec"]

hookspec = pluggy.HookspecMarker("nexa")
hookimpl = pluggy.HookimplMarker("nexa")

#: ``register(name, factory)``
Register = Callable[[str, Callable[..., Any]], None]


# ----------------------------------------------------------------- stores and engines


@hookspec(firstresult=True)
def nexa_store_from_url(url: str, options: dict[str, Any]) -> Any:
    """Build the :class:`~nexa_core.ports.OperationalStore` for ``url`` or return None."""


@hookspec(firstresult=True)
def nexa_snapshot_store_from_url(url: str, options: dict[str, Any]) -> Any:
    """Build the :class:`~nexa_core.ports.SnapshotStore` for ``url`` or return None."""


@hookspec(firstresult=True)
def nexa_coordination_from_url(url: str, options: dict[str, Any]) -> Any:
    """Build the :class:`~nexa_core.ports.Coordination` for ``url`` or return None."""


@hookspec(firstresult=True)
def nexa_engine_from_url(url: str, options: dict[str, Any]) -> Any:
    """Build a saga engine for ``url`` (``inprocess://``, ``dbos+sqlite://…``) or None."""


# ----------------------------------------------------------------- providers


@hookspec
def nexa_register_hotel_providers(register: Register) -> None:
    """Register :class:`~nexa_core.ports.HotelProvider` factories."""


@hookspec
def nexa_register_booking_providers(register: Register) -> None:
    """Register :class:`~nexa_core.ports.BookingProvider` factories (name = URN vendor)."""


@hookspec
def nexa_register_payment_providers(register: Register) -> None:
    """Register :class:`~nexa_core.ports.PaymentProvider` factories."""


@hookspec
def nexa_register_transport_providers(register: Register) -> None:
    """Register :class:`~nexa_core.ports.TransportProvider` factories."""


@hookspec
def nexa_register_notification_providers(register: Register) -> None:
    """Register :class:`~nexa_core.ports.NotificationProvider` factories."""


@hookspec
def nexa_register_airline_providers(register: Register) -> None:
    """Register :class:`~nexa_core.ports.AirlineProvider` factories."""


@hookspec
def nexa_register_flight_predictors(register: Register) -> None:
    """Register :class:`~nexa_core.ports.FlightPredictor` factories."""


@hookspec
def nexa_register_flight_status_providers(register: Register) -> None:
    """Register :class:`~nexa_core.ports.FlightStatusProvider` factories."""


@hookspec
def nexa_register_policy_synthesizers(register: Register) -> None:
    """Register :class:`~nexa_core.ports.PolicySynthesizer` factories."""


@hookspec
def nexa_register_secrets_providers(register: Register) -> None:
    """Register :class:`~nexa_core.ports.SecretsProvider` factories."""


@hookspec
def nexa_register_triage(register: Register) -> None:
    """Register :class:`~nexa_core.ports.ExceptionTriage` factories."""


@hookspec
def nexa_register_solvers(register: Register) -> None:
    """Register allocation solver factories."""


# ----------------------------------------------------------------- outbox consumers


@hookspec
def nexa_register_outbox_consumers(register: Register) -> None:
    """Register outbox consumer factories, called as ``factory(nexa=<Nexa>)``; each returns
    a :class:`~nexa_core.relay.OutboxConsumer` (``name`` + ``async handle(record)``) or
    None to stay out. ``nexa worker`` relays every committed event to each consumer in
    order, at least once (consumers deduplicate by ``record.event.key`` or make their
    effect idempotent); ``nexa outbox status`` shows their positions and lag."""
