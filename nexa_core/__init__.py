"""Nexa core: the pure domain of airline disruption care, and its ports.

This package has no I/O dependencies; adapters live in ``nexa_adapters``.
"""

from importlib.metadata import PackageNotFoundError as _PackageNotFoundError
from importlib.metadata import version as _version

from nexa_core.errors import NexaError
from nexa_core.tenancy import TenantContext
from nexa_core.urn import Urn, correlation_from_traceparent

try:
    __version__ = _version("nexa")
except _PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

__all__ = [
    "NexaError",
    "TenantContext",
    "Urn",
    "__version__",
    "correlation_from_traceparent",
]
