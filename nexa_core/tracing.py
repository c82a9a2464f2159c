"""Correlation, trace propagation, spans and metrics — the core side, with no I/O library.

* The *current correlation URN* lives in a :class:`~contextvars.ContextVar`;
  :func:`correlation_scope` sets it for a block (adapters also bind it into the log context,
  see ``nexa_adapters.observability.bind_correlation``).
* :func:`traceparent_for` / :func:`carrier` / :func:`correlation_from_carrier` carry it across
  process boundaries (outbound HTTP, job payloads); :func:`stamp_event` puts it on a
  :class:`~nexa_core.model.DomainEvent` that has none.
* :func:`span` and :func:`stage` delegate to an installed :class:`Tracer` /
  :class:`Metrics` (no-ops until an adapter installs OpenTelemetry or a Prometheus registry).
"""

from __future__ import annotations

import contextvars
import secrets
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Protocol, TypeVar

import attrs

from nexa_core.urn import Urn, correlation_from_traceparent

__all__ = [
    "CORRELATION_HEADER",
    "JOB_TRACE_KEY",
    "TRACEPARENT_HEADER",
    "Metrics",
    "NullMetrics",
    "NullTracer",
    "Tracer",
    "carrier",
    "correlation_from_carrier",
    "correlation_of_job",
    "correlation_scope",
    "current_correlation",
    "get_metrics",
    "get_tracer",
    "install_metrics",
    "install_tracer",
    "partner_call",
    "span",
    "stage",
    "stamp_event",
    "trace_id_of",
    "traceparent_for",
    "with_trace",
]

TRACEPARENT_HEADER = "traceparent"
CORRELATION_HEADER = "X-Nexa-Correlation"

_CORRELATION: contextvars.ContextVar[Urn | None] = contextvars.ContextVar(
    "nexa_correlation", default=None
)

E = TypeVar("E")


def current_correlation() -> Urn | None:
    """The correlation URN of the running task (``None`` outside any scope)."""
    return _CORRELATION.get()


@contextmanager
def correlation_scope(urn: Urn) -> Iterator[Urn]:
    """Make ``urn`` the current correlation for the block (restored afterwards)."""
    if not urn.is_a("correlation"):
        from nexa_core.errors import InvalidInputError

        raise InvalidInputError(f"{urn} is not a correlation URN", field="correlation_urn")
    token = _CORRELATION.set(urn)
    try:
        yield urn
    finally:
        _CORRELATION.reset(token)


def trace_id_of(urn: Urn) -> str:
    """The 32-hex W3C trace id of a correlation URN (short ids are left-padded)."""
    return urn.id.rjust(32, "0")


def traceparent_for(urn: Urn, *, span_id: str | None = None, sampled: bool = True) -> str:
    """A W3C ``traceparent`` header value continuing the trace of ``urn``."""
    parent = span_id or secrets.token_hex(8)
    while parent == "0" * 16:  # pragma: no cover - 2**-64
        parent = secrets.token_hex(8)
    return f"00-{trace_id_of(urn)}-{parent}-{'01' if sampled else '00'}"


def carrier(urn: Urn | None = None) -> dict[str, str]:
    """Propagation headers for the current (or given) correlation: empty outside a scope.

    Use it for outbound HTTP requests and as the ``trace`` field of job payloads.
    """
    corr = urn or current_correlation()
    if corr is None:
        return {}
    return {TRACEPARENT_HEADER: traceparent_for(corr), CORRELATION_HEADER: str(corr)}


def correlation_from_carrier(headers: Mapping[str, str] | None) -> Urn:
    """The correlation URN carried by ``headers`` (case-insensitive names).

    A valid ``traceparent`` wins; else a valid ``X-Nexa-Correlation`` URN; else a new trace.
    """
    lowered = {str(k).lower(): v for k, v in (headers or {}).items()}
    tp = lowered.get(TRACEPARENT_HEADER)
    if tp is not None:
        return correlation_from_traceparent(tp)
    raw = lowered.get(CORRELATION_HEADER.lower())
    if isinstance(raw, str):
        from nexa_core.errors import InvalidUrnError

        try:
            urn = Urn.parse(raw)
        except InvalidUrnError:
            urn = None
        if urn is not None and urn.is_a("correlation"):
            return urn
    return correlation_from_traceparent(None)


#: the key under which job payloads carry their propagation headers
JOB_TRACE_KEY = "trace"


def with_trace(payload: Mapping[str, Any]) -> dict[str, Any]:
    """A job payload carrying the current correlation (``payload["trace"]`` headers)."""
    out = dict(payload)
    headers = carrier()
    if headers:
        out[JOB_TRACE_KEY] = headers
    return out


def correlation_of_job(payload: Mapping[str, Any]) -> Urn:
    """The correlation a job payload was enqueued under (a new trace when it has none).

    A worker runs the job inside ``correlation_scope(correlation_of_job(payload))``.
    """
    trace = payload.get(JOB_TRACE_KEY)
    return correlation_from_carrier(trace if isinstance(trace, Mapping) else None)


def stamp_event(event: E) -> E:
    """The event with the current correlation URN when it carries none (else unchanged)."""
    corr = current_correlation()
    if corr is None or getattr(event, "correlation_urn", None) is not None:
        return event
    return attrs.evolve(event, correlation_urn=corr)  # type: ignore[misc]


# --------------------------------------------------------------------------- spans


class Tracer(Protocol):
    """What :func:`span` needs from a tracing backend (OpenTelemetry in the adapters)."""

    def start_span(self, name: str, attributes: Mapping[str, Any]) -> Any:
        """A context manager spanning the block."""
        ...


class _NullSpan:
    def __enter__(self) -> _NullSpan:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def set_attribute(self, key: str, value: Any) -> None:
        """Ignored."""


class NullTracer:
    """The default tracer: spans cost nothing and record nothing."""

    def start_span(self, name: str, attributes: Mapping[str, Any]) -> Any:
        """A no-op span."""
        return _NullSpan()


class Metrics(Protocol):
    """Counters and histograms, labelled (Prometheus-style)."""

    def inc(self, name: str, labels: Mapping[str, str], amount: float = 1.0) -> None:
        """Add ``amount`` to a counter."""
        ...

    def observe(self, name: str, labels: Mapping[str, str], value: float) -> None:
        """Record ``value`` in a histogram."""
        ...


class NullMetrics:
    """The default metrics sink: records nothing."""

    def inc(self, name: str, labels: Mapping[str, str], amount: float = 1.0) -> None:
        """Ignored."""

    def observe(self, name: str, labels: Mapping[str, str], value: float) -> None:
        """Ignored."""


@attrs.define
class _Installed:
    tracer: Tracer = attrs.field(factory=NullTracer)
    metrics: Metrics = attrs.field(factory=NullMetrics)


_INSTALLED = _Installed()


def install_tracer(tracer: Tracer | None) -> Tracer:
    """Install a tracer (``None``: the no-op one); returns the previous one."""
    previous = _INSTALLED.tracer
    _INSTALLED.tracer = tracer or NullTracer()
    return previous


def install_metrics(metrics: Metrics | None) -> Metrics:
    """Install a metrics sink (``None``: the no-op one); returns the previous one."""
    previous = _INSTALLED.metrics
    _INSTALLED.metrics = metrics or NullMetrics()
    return previous


def get_tracer() -> Tracer:
    """The installed tracer."""
    return _INSTALLED.tracer


def get_metrics() -> Metrics:
    """The installed metrics sink."""
    return _INSTALLED.metrics


@contextmanager
def span(name: str, **attributes: Any) -> Iterator[Any]:
    """A tracing span named ``name``; the correlation URN is added as an attribute."""
    corr = current_correlation()
    attrs_ = {k: str(v) for k, v in attributes.items() if v is not None}
    if corr is not None:
        attrs_["nexa.correlation_urn"] = str(corr)
    with _INSTALLED.tracer.start_span(name, attrs_) as s:
        yield s


@contextmanager
def _timed(counter: str, histogram: str, labels: dict[str, str], span_name: str) -> Iterator[None]:
    metrics = _INSTALLED.metrics
    start = time.perf_counter()
    outcome = "ok"
    try:
        with span(span_name, **labels):
            yield
    except BaseException as exc:
        outcome = getattr(exc, "code", None) or type(exc).__name__
        raise
    finally:
        elapsed = time.perf_counter() - start
        metrics.inc(counter, {**labels, "outcome": str(outcome)})
        metrics.observe(histogram, labels, elapsed)


def stage(name: str) -> Any:
    """Time a pipeline stage: a span, ``nexa_stage_total`` and ``nexa_stage_seconds``."""
    return _timed("nexa_stage_total", "nexa_stage_seconds", {"stage": name}, f"nexa.{name}")


def partner_call(partner: str, operation: str) -> Any:
    """Time a partner call: a span, ``nexa_partner_calls_total`` and ``nexa_partner_seconds``."""
    return _timed(
        "nexa_partner_calls_total",
        "nexa_partner_seconds",
        {"partner": partner, "operation": operation},
        f"nexa.partner.{operation}",
    )
