"""Acme Hotels for Nexa: an example third-party plugin."""

from nexa_acme_hotels.provider import AcmeHotels

__all__ = ["AcmeHotels"]
