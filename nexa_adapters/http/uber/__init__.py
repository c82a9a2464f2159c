"""Uber Guest Rides transport adapter."""

from nexa_adapters.http.uber.provider import UberRides

__all__ = ["UberRides"]
