"""Observability: structured, masked logs with the correlation URN on every line; trace
propagation over HTTP, events and jobs; OpenTelemetry spans and Prometheus-style metrics
when enabled (both optional)."""

from nexa_adapters.observability.http import (
    TracingTransport,
    add_trace_headers,
    add_trace_headers_async,
    instrument_client,
)
from nexa_adapters.observability.logs import (
    add_correlation,
    bind_correlation,
    configure_logging,
    get_logger,
)
from nexa_adapters.observability.masking import (
    MASK,
    is_secret_key,
    mask_event_dict,
    mask_text,
    mask_value,
)
from nexa_adapters.observability.metrics import (
    InProcessMetrics,
    PrometheusMetrics,
    create_metrics,
)
from nexa_adapters.observability.otel import OTelTracer, otel_tracer
from nexa_adapters.observability.setup import (
    Observability,
    configure_observability,
    install_runtime_observability,
)

__all__ = [
    "MASK",
    "InProcessMetrics",
    "OTelTracer",
    "Observability",
    "PrometheusMetrics",
    "TracingTransport",
    "add_correlation",
    "add_trace_headers",
    "add_trace_headers_async",
    "bind_correlation",
    "configure_logging",
    "configure_observability",
    "create_metrics",
    "get_logger",
    "install_runtime_observability",
    "instrument_client",
    "is_secret_key",
    "mask_event_dict",
    "mask_text",
    "mask_value",
    "otel_tracer",
]
