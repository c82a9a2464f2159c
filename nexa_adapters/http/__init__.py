"""HTTP partner adapters (each vendor a ``nexa`` plugin) and their shared resilience layer.

Vendors: :mod:`~nexa_adapters.http.amadeus`, :mod:`~nexa_adapters.http.hotelbeds`,
:mod:`~nexa_adapters.http.pomelo`, :mod:`~nexa_adapters.http.uber`,
:mod:`~nexa_adapters.http.cabify`, :mod:`~nexa_adapters.http.sendgrid`,
:mod:`~nexa_adapters.http.twilio`.
"""

from nexa_adapters.http._base import HttpAdapter, ReplayMemory
from nexa_adapters.http._resilience import ResilientClient, RetryPolicy

__all__ = ["HttpAdapter", "ReplayMemory", "ResilientClient", "RetryPolicy"]
