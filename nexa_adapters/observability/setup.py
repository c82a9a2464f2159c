"""Wire observability from settings: logging, metrics, tracing."""

from __future__ import annotations

from typing import Any, TextIO

import attrs

from nexa_adapters.observability.logs import configure_logging
from nexa_adapters.observability.metrics import create_metrics
from nexa_adapters.observability.otel import otel_tracer
from nexa_core.tracing import install_metrics, install_tracer

__all__ = ["Observability", "configure_observability", "install_runtime_observability"]


@attrs.define
class Observability:
    """What was installed (``metrics`` is ``None`` unless ``settings.metrics``)."""

    metrics: Any = None
    tracer: Any = None
    logging_configured: bool = False


def install_runtime_observability(settings: Any) -> Observability:
    """Metrics (when ``settings.metrics``) and OpenTelemetry spans (when installed).

    Library-safe: does not touch logging handlers (bootstrap calls this).
    """
    metrics = create_metrics() if getattr(settings, "metrics", False) else None
    install_metrics(metrics)
    tracer = otel_tracer()
    install_tracer(tracer)
    return Observability(metrics=metrics, tracer=tracer)


def configure_observability(settings: Any, *, stream: TextIO | None = None) -> Observability:
    """Everything, logging included (``log_level``, ``log_json``): for applications and CLIs."""
    obs = install_runtime_observability(settings)
    configure_logging(
        level=getattr(settings, "log_level", "INFO"),
        json_lines=bool(getattr(settings, "log_json", False)),
        stream=stream,
    )
    obs.logging_configured = True
    return obs
