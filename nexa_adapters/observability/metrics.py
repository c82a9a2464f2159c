"""Prometheus-style counters and histograms per stage and partner (optional).

:func:`create_metrics` returns a ``prometheus_client``-backed registry when that library is
installed, else a tiny in-process registry with the same text exposition. Either one is
installed with :func:`nexa_core.tracing.install_metrics` when ``settings.metrics`` is on.
Metric names: ``nexa_stage_total{stage,outcome}``, ``nexa_stage_seconds{stage}``,
``nexa_partner_calls_total{partner,operation,outcome}``,
``nexa_partner_seconds{partner,operation}``.
"""

from __future__ import annotations

import bisect
import importlib
import math
import threading
from collections.abc import Mapping
from typing import Any

__all__ = ["DEFAULT_BUCKETS", "InProcessMetrics", "PrometheusMetrics", "create_metrics"]

DEFAULT_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
_Key = tuple[str, tuple[tuple[str, str], ...]]


def _key(name: str, labels: Mapping[str, str]) -> _Key:
    return name, tuple(sorted((k, str(v)) for k, v in labels.items()))


def _labels(pairs: tuple[tuple[str, str], ...], extra: tuple[tuple[str, str], ...] = ()) -> str:
    items = [*pairs, *extra]
    if not items:
        return ""
    body = ",".join(
        f'{k}="{v.replace(chr(92), chr(92) * 2).replace(chr(34), chr(92) + chr(34))}"'
        for k, v in items
    )
    return "{" + body + "}"


class InProcessMetrics:
    """Counters and histograms in memory, rendered in the Prometheus text format."""

    def __init__(self, buckets: tuple[float, ...] = DEFAULT_BUCKETS) -> None:
        self._buckets = tuple(sorted(buckets))
        self._counters: dict[_Key, float] = {}
        self._hist: dict[_Key, list[float]] = {}  # per-bucket counts + [sum, count]
        self._lock = threading.Lock()

    def inc(self, name: str, labels: Mapping[str, str], amount: float = 1.0) -> None:
        """Add to a counter."""
        k = _key(name, labels)
        with self._lock:
            self._counters[k] = self._counters.get(k, 0.0) + amount

    def observe(self, name: str, labels: Mapping[str, str], value: float) -> None:
        """Record one observation."""
        if not math.isfinite(value):
            return
        k = _key(name, labels)
        with self._lock:
            row = self._hist.setdefault(k, [0.0] * (len(self._buckets) + 2))
            i = bisect.bisect_left(self._buckets, value)
            if i < len(self._buckets):
                row[i] += 1
            row[-2] += value
            row[-1] += 1

    def value(self, name: str, **labels: str) -> float:
        """A counter's value (0 when never incremented)."""
        return self._counters.get(_key(name, labels), 0.0)

    def count(self, name: str, **labels: str) -> int:
        """How many observations a histogram got."""
        row = self._hist.get(_key(name, labels))
        return int(row[-1]) if row else 0

    def render(self) -> str:
        """The Prometheus text exposition of everything recorded."""
        lines: list[str] = []
        with self._lock:
            for name in sorted({k[0] for k in self._counters}):
                lines.append(f"# TYPE {name} counter")
                for (n, pairs), v in sorted(self._counters.items()):
                    if n == name:
                        lines.append(f"{name}{_labels(pairs)} {v}")
            for name in sorted({k[0] for k in self._hist}):
                lines.append(f"# TYPE {name} histogram")
                for (n, pairs), row in sorted(self._hist.items()):
                    if n != name:
                        continue
                    cumulative = 0.0
                    for bound, c in zip(self._buckets, row, strict=False):
                        cumulative += c
                        lines.append(
                            f"{name}_bucket{_labels(pairs, (('le', repr(bound)),))} {cumulative}"
                        )
                    lines.append(f"{name}_bucket{_labels(pairs, (('le', '+Inf'),))} {row[-1]}")
                    lines.append(f"{name}_sum{_labels(pairs)} {row[-2]}")
                    lines.append(f"{name}_count{_labels(pairs)} {row[-1]}")
        return "\n".join(lines) + "\n"


class PrometheusMetrics:
    """The same interface over ``prometheus_client`` (its own registry)."""

    def __init__(self, client: Any, buckets: tuple[float, ...] = DEFAULT_BUCKETS) -> None:
        self._client = client
        self.registry = client.CollectorRegistry()
        self._buckets = buckets
        self._metrics: dict[str, Any] = {}
        self._lock = threading.Lock()

    def _metric(self, kind: str, name: str, labels: Mapping[str, str]) -> Any:
        with self._lock:
            metric = self._metrics.get(name)
            if metric is None:
                names = sorted(labels)
                if kind == "counter":
                    metric = self._client.Counter(
                        name.removesuffix("_total"), name, names, registry=self.registry
                    )
                else:
                    metric = self._client.Histogram(
                        name, name, names, buckets=self._buckets, registry=self.registry
                    )
                self._metrics[name] = metric
        return metric.labels(**{k: str(v) for k, v in labels.items()}) if labels else metric

    def inc(self, name: str, labels: Mapping[str, str], amount: float = 1.0) -> None:
        """Add to a counter."""
        self._metric("counter", name, labels).inc(amount)

    def observe(self, name: str, labels: Mapping[str, str], value: float) -> None:
        """Record one observation."""
        self._metric("histogram", name, labels).observe(value)

    def render(self) -> str:
        """The Prometheus text exposition."""
        return str(self._client.generate_latest(self.registry).decode("utf-8"))


def create_metrics(*, prefer_prometheus: bool = True) -> InProcessMetrics | PrometheusMetrics:
    """``prometheus_client`` when installed (and preferred), else the in-process registry."""
    if prefer_prometheus:
        try:
            client = importlib.import_module("prometheus_client")
        except ImportError:
            pass
        else:
            return PrometheusMetrics(client)
    return InProcessMetrics()
