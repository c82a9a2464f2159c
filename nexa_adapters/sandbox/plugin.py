"""Built-in ``sandbox`` plugin: partners that need no credentials."""

from __future__ import annotations

from typing import Any

from nexa_adapters.hookspecs import Register, hookimpl
from nexa_adapters.sandbox.providers import (
    FaultInjector,
    SandboxBooking,
    SandboxHotels,
    SandboxMessages,
    SandboxPayments,
    SandboxTransport,
)


def _faults(options: dict[str, Any]) -> FaultInjector:
    f = options.get("faults")
    return f if isinstance(f, FaultInjector) else FaultInjector()


@hookimpl
def nexa_register_hotel_providers(register: Register) -> None:
    """The synthetic hotel inventory."""
    register("sandbox", lambda **o: SandboxHotels(seed=o.get("seed", 7), faults=_faults(o)))


@hookimpl
def nexa_register_booking_providers(register: Register) -> None:
    """Bookings against the synthetic inventory."""
    register("sandbox", lambda **o: SandboxBooking(faults=_faults(o)))


@hookimpl
def nexa_register_payment_providers(register: Register) -> None:
    """Deterministic virtual cards."""
    register("sandbox", lambda **o: SandboxPayments(faults=_faults(o)))


@hookimpl
def nexa_register_transport_providers(register: Register) -> None:
    """Two limited fleets: shuttles up to 24 seats, and cars up to 4 (cheaper alone)."""
    register("sandbox", lambda **o: SandboxTransport(faults=_faults(o)))
    register(
        "sandbox-cars",
        lambda **o: SandboxTransport(
            "sandbox-cars", faults=_faults(o), max_passengers=4, base_price=10, per_passenger=5
        ),
    )


@hookimpl
def nexa_register_notification_providers(register: Register) -> None:
    """A capturing message sink."""
    register("sandbox", lambda **o: SandboxMessages(faults=_faults(o)))
