"""Uber Guest Rides transport adapter."""

from nexa_adapters.http.uber.provider import (
    EVENT_TYPES,
    ORGANIZATION_HEADER,
    UberRides,
    uber_signature,
)

__all__ = ["EVENT_TYPES", "ORGANIZATION_HEADER", "UberRides", "uber_signature"]
