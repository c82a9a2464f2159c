"""Cabify transport adapter."""

from nexa_adapters.http.cabify.provider import CabifyRides

__all__ = ["CabifyRides"]
