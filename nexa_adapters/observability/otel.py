"""OpenTelemetry spans when the SDK is installed; nothing otherwise (not a dependency)."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

__all__ = ["OTelTracer", "otel_tracer"]


class OTelTracer:
    """Adapts an OpenTelemetry tracer to :class:`nexa_core.tracing.Tracer`."""

    def __init__(self, tracer: Any) -> None:
        self._tracer = tracer

    def start_span(self, name: str, attributes: Mapping[str, Any]) -> Any:
        """``tracer.start_as_current_span`` with the attributes."""
        return self._tracer.start_as_current_span(name, attributes=dict(attributes))


def otel_tracer(name: str = "nexa") -> OTelTracer | None:
    """An :class:`OTelTracer` from the global provider, or ``None`` without OpenTelemetry."""
    try:
        trace = importlib.import_module("opentelemetry.trace")
    except ImportError:
        return None
    return OTelTracer(trace.get_tracer(name))
