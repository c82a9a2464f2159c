"""Sandbox partners with synthetic inventory and fault injection."""

from nexa_adapters.sandbox.inventory import airport, synthetic_hotels
from nexa_adapters.sandbox.manifests import synthetic_manifest
from nexa_adapters.sandbox.providers import (
    FaultInjector,
    SandboxBooking,
    SandboxHotels,
    SandboxMessages,
    SandboxPayments,
    SandboxTransport,
)

__all__ = [
    "FaultInjector",
    "SandboxBooking",
    "SandboxHotels",
    "SandboxMessages",
    "SandboxPayments",
    "SandboxTransport",
    "airport",
    "synthetic_hotels",
    "synthetic_manifest",
]
