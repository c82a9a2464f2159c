"""Logging, masking, trace propagation, spans and metrics."""

from __future__ import annotations

import io
import json
import logging
import sys
from collections.abc import Iterator
from typing import Any

import attrs
import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nexa_adapters.observability import (
    InProcessMetrics,
    OTelTracer,
    TracingTransport,
    bind_correlation,
    configure_observability,
    create_metrics,
    get_logger,
    instrument_client,
    mask_text,
    mask_value,
    otel_tracer,
)
from nexa_adapters.observability.masking import EMAIL_RE, PHONE_RE
from nexa_adapters.observability.testing import assert_clean_logs, capture_logs, log_problems
from nexa_adapters.settings import Settings
from nexa_core.model import DomainEvent
from nexa_core.pii import find_card_numbers, luhn_valid
from nexa_core.runtime import FixedClock
from nexa_core.tracing import (
    CORRELATION_HEADER,
    correlation_from_carrier,
    correlation_of_job,
    current_correlation,
    install_metrics,
    install_tracer,
    span,
    stage,
    stamp_event,
    with_trace,
)
from nexa_core.urn import Urn

CORR = Urn("correlation", "4bf92f3577b34da6a3ce929d0e0e4736")
TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


@pytest.fixture
def metrics() -> Iterator[InProcessMetrics]:
    m = InProcessMetrics()
    previous = install_metrics(m)
    yield m
    install_metrics(previous)


# --------------------------------------------------------------------------- masking


def _luhn(body: str) -> str:
    for d in "0123456789":
        if luhn_valid(body + d):
            return body + d
    raise AssertionError  # pragma: no cover


cards = st.integers(12, 18).flatmap(
    lambda n: st.text("0123456789", min_size=n, max_size=n).map(lambda b: _luhn("4" + b[1:]))
)
emails = st.from_regex(r"[a-z][a-z0-9.]{0,10}@[a-z]{2,8}\.(com|cl|com\.br)", fullmatch=True)
phones = st.from_regex(r"\+[1-9][0-9]{7,13}", fullmatch=True)
filler = st.text(st.characters(codec="utf-8", exclude_categories=["Nd"]), max_size=20)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(cards, emails, phones), min_size=1, max_size=4), filler, st.data())
def test_contact_data_and_cards_are_masked_anywhere_in_an_event(
    secrets: list[str], text: str, data: st.DataObject
) -> None:
    sentence = " ".join(f"{text} {s}" for s in secrets)
    shape = data.draw(st.sampled_from(["flat", "nested", "list", "message"]))
    event: Any = {
        "flat": {"note": sentence},
        "nested": {"a": {"b": [{"c": sentence}]}},
        "list": {"items": [1, sentence, None]},
        "message": {"event": sentence},
    }[shape]
    rendered = json.dumps(mask_value(event))
    for s in secrets:
        assert s not in rendered
    assert not EMAIL_RE.search(rendered) and not PHONE_RE.search(rendered)
    assert not find_card_numbers(rendered)


@pytest.mark.parametrize(
    "key",
    [
        "password",
        "client_secret",
        "Authorization",
        "x-api-key",
        "api_key",
        "access_token",
        "refresh_token",
        "jwt_secret",
        "private_key",
        "Cookie",
        "webhook_secret",
        "cvv",
    ],
)
def test_secret_keys_are_masked_at_any_depth(key: str) -> None:
    masked = mask_value({"outer": [{key: "hunter2-value"}], key: "hunter2-value"})
    assert "hunter2" not in json.dumps(masked)


def test_ids_urns_and_amounts_stay_readable() -> None:
    event = {
        "case_urn": "urn:case:c-7f8e1",
        "flight": "urn:flight:LA500@20260505",
        "token_id": "tok-1",
        "amount": "120.50 USD",
        "count": 12,
    }
    assert mask_value(event) == event
    assert mask_text("Bearer abcdef123456 and password=hunter2") == (
        "Bearer [token] and password=********"
    )


# --------------------------------------------------------------------------- logging


def test_every_line_carries_the_correlation_and_stdlib_records_are_masked_too() -> None:
    with capture_logs() as logs:
        with bind_correlation(CORR):
            get_logger("nexa.test").info("struct", email="ana@example.com")
            logging.getLogger("nexa.std").warning(
                "stdlib +56912345678", extra={"api_key": "k-123456"}
            )
            try:
                raise ValueError("card 4111 1111 1111 1111 refused for ana@example.com")
            except ValueError:
                get_logger("nexa.test").exception("failed")
        get_logger("nexa.test").info("outside")
    records = logs.records
    assert [r["event"] for r in records] == ["struct", "stdlib [phone]", "failed", "outside"]
    assert all(r["correlation_urn"] == str(CORR) for r in records[:3])
    assert "correlation_urn" not in records[3]
    assert records[1]["api_key"] == "********"
    assert "ValueError" in records[2]["exception"] and "[card]" in records[2]["exception"]
    assert_clean_logs(logs.lines[:3], CORR)


def test_the_harness_catches_leaks_and_missing_correlation() -> None:
    lines = [
        json.dumps({"event": "x", "correlation_urn": str(CORR)}),
        json.dumps({"event": "mail ana@example.com", "correlation_urn": str(CORR)}),
        json.dumps({"event": "call +5691234567"}),
        json.dumps({"event": "pan 4111111111111111", "correlation_urn": str(CORR)}),
        json.dumps({"event": "tok hunter2", "correlation_urn": str(CORR)}),
    ]
    problems = log_problems(lines, CORR, secrets=["hunter2"])
    assert problems == [
        "line 2: e-mail",
        f"line 3: phone, no {CORR}",
        "line 4: card number",
        "line 5: secret",
    ]
    with pytest.raises(AssertionError):
        assert_clean_logs(lines, CORR)
    with pytest.raises(AssertionError, match="no log lines"):
        assert_clean_logs([], CORR)


def test_bind_correlation_nests_and_restores() -> None:
    other = Urn("correlation", "abc")
    assert current_correlation() is None
    with bind_correlation(CORR):
        with bind_correlation(str(other)):
            assert current_correlation() == other
        assert current_correlation() == CORR
    assert current_correlation() is None


def test_configure_observability_from_settings_writes_json_lines() -> None:
    stream = io.StringIO()
    root = logging.getLogger()
    before = list(root.handlers)
    try:
        obs = configure_observability(
            Settings(log_json=True, metrics=True, log_level="DEBUG"), stream=stream
        )
        with bind_correlation(CORR):
            get_logger("nexa.cfg").debug("hello", password="x")
        line = json.loads(stream.getvalue().strip().splitlines()[-1])
        assert line["event"] == "hello" and line["password"] == "********"
        assert line["correlation_urn"] == str(CORR)
        assert obs.metrics is not None and obs.logging_configured
    finally:
        for h in list(root.handlers):
            if h not in before:
                root.removeHandler(h)
        install_metrics(None)
        install_tracer(None)


# --------------------------------------------------------------------------- propagation


def test_traceparent_is_accepted_and_x_nexa_correlation_is_a_fallback() -> None:
    assert correlation_from_carrier({"Traceparent": TRACEPARENT}) == CORR
    assert correlation_from_carrier({CORRELATION_HEADER: "urn:correlation:abc"}).id == "abc"
    fresh = correlation_from_carrier({"traceparent": "00-" + "0" * 32 + "-00f067aa0ba902b7-01"})
    assert fresh != CORR and len(fresh.id) == 32
    assert correlation_from_carrier({CORRELATION_HEADER: "urn:case:c-1"}).is_a("correlation")


def test_events_and_jobs_carry_the_correlation() -> None:
    event = DomainEvent(
        Urn("event", "e-1"),
        Urn("airline", "LAN"),
        "case.created",
        Urn("case", "c-1"),
        FixedClock().now(),
    )
    assert stamp_event(event) is event
    with bind_correlation(CORR):
        assert stamp_event(event).correlation_urn == CORR
        payload = with_trace({"case": "urn:case:c-1"})
    kept = Urn("correlation", "1234")
    with bind_correlation(CORR):
        assert stamp_event(attrs.evolve(event, correlation_urn=kept)).correlation_urn == kept
    assert payload["trace"]["traceparent"].split("-")[1] == CORR.id
    assert correlation_of_job(payload) == CORR
    assert correlation_of_job({"case": "x"}) != CORR
    assert with_trace({"a": 1}) == {"a": 1}


def test_outbound_http_carries_traceparent_and_correlation_headers() -> None:
    seen: list[httpx.Headers] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers)
        return httpx.Response(200)

    client = instrument_client(httpx.Client(transport=httpx.MockTransport(handler)))
    instrument_client(client)  # idempotent
    assert len(client.event_hooks["request"]) == 1
    with bind_correlation(CORR):
        client.get("https://partner.example/a")
        client.get("https://partner.example/b", headers={"traceparent": TRACEPARENT})
    client.get("https://partner.example/c")
    assert seen[0]["traceparent"].split("-")[1] == CORR.id
    assert seen[0][CORRELATION_HEADER] == str(CORR)
    assert seen[1]["traceparent"] == TRACEPARENT
    assert "traceparent" not in seen[2]


@pytest.mark.anyio
async def test_async_transport_propagates_and_counts_partner_calls(
    metrics: InProcessMetrics,
) -> None:
    seen: list[httpx.Headers] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers)
        return httpx.Response(503 if request.url.path == "/down" else 200)

    transport = TracingTransport(httpx.MockTransport(handler), partner="amadeus")
    async with instrument_client(httpx.AsyncClient(transport=transport)) as client:
        with bind_correlation(CORR):
            await client.get("https://amadeus.example/ok")
            await client.post("https://amadeus.example/down")
    assert all(h["traceparent"].split("-")[1] == CORR.id for h in seen)
    assert (
        metrics.value("nexa_partner_calls_total", partner="amadeus", operation="get", outcome="ok")
        == 1
    )
    assert metrics.count("nexa_partner_seconds", partner="amadeus", operation="post") == 1


# --------------------------------------------------------------------------- spans & metrics


def test_stage_counts_outcomes_and_times_them(metrics: InProcessMetrics) -> None:
    with stage("allocate"):
        pass
    with pytest.raises(KeyError), stage("allocate"):
        raise KeyError("x")
    assert metrics.value("nexa_stage_total", stage="allocate", outcome="ok") == 1
    assert metrics.value("nexa_stage_total", stage="allocate", outcome="KeyError") == 1
    assert metrics.count("nexa_stage_seconds", stage="allocate") == 2
    text = metrics.render()
    assert "# TYPE nexa_stage_total counter" in text
    assert 'nexa_stage_seconds_bucket{stage="allocate",le="+Inf"} 2' in text
    assert 'nexa_stage_seconds_count{stage="allocate"} 2' in text


def test_metrics_fall_back_to_the_in_process_registry_without_prometheus(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "prometheus_client", None)
    assert isinstance(create_metrics(), InProcessMetrics)
    assert isinstance(create_metrics(prefer_prometheus=False), InProcessMetrics)


def test_spans_go_to_opentelemetry_when_present_and_nowhere_otherwise(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    started: list[tuple[str, dict[str, Any]]] = []

    class FakeOTel:
        def start_as_current_span(self, name: str, attributes: dict[str, Any]) -> Any:
            started.append((name, attributes))
            return _NullCM()

    class _NullCM:
        def __enter__(self) -> _NullCM:
            return self

        def __exit__(self, *a: object) -> None:
            return None

    previous = install_tracer(OTelTracer(FakeOTel()))
    try:
        with bind_correlation(CORR), span("nexa.search", partner="hotelbeds"):
            pass
    finally:
        install_tracer(previous)
    assert started == [("nexa.search", {"partner": "hotelbeds", "nexa.correlation_urn": str(CORR)})]
    monkeypatch.setitem(sys.modules, "opentelemetry.trace", None)
    monkeypatch.setitem(sys.modules, "opentelemetry", None)
    assert otel_tracer() is None
    with span("nothing"):  # the no-op tracer
        pass


def test_prometheus_metrics_drive_the_client_library_api() -> None:
    from nexa_adapters.observability import PrometheusMetrics

    calls: list[tuple[str, Any]] = []

    class Child:
        def __init__(self, name: str, labels: dict[str, str]) -> None:
            self.name, self.labels_ = name, labels

        def inc(self, amount: float) -> None:
            calls.append(("inc", (self.name, self.labels_, amount)))

        def observe(self, value: float) -> None:
            calls.append(("observe", (self.name, self.labels_)))

    class Metric:
        def __init__(self, name: str, doc: str, labelnames: list[str], **kw: Any) -> None:
            self.name, self.labelnames = name, labelnames
            calls.append(("create", (name, tuple(labelnames))))

        def labels(self, **labels: str) -> Child:
            assert sorted(labels) == self.labelnames
            return Child(self.name, labels)

    class FakeClient:
        CollectorRegistry = object
        Counter = Metric
        Histogram = Metric

        @staticmethod
        def generate_latest(registry: object) -> bytes:
            return b"# exposition\n"

    m = PrometheusMetrics(FakeClient)
    m.inc("nexa_stage_total", {"stage": "a", "outcome": "ok"})
    m.inc("nexa_stage_total", {"stage": "b", "outcome": "ok"}, 2)
    m.observe("nexa_stage_seconds", {"stage": "a"}, 0.1)
    assert calls[0] == ("create", ("nexa_stage", ("outcome", "stage")))
    assert [c[0] for c in calls] == ["create", "inc", "inc", "create", "observe"]
    assert m.render() == "# exposition\n"


@pytest.mark.anyio
async def test_partner_adapters_propagate_the_trace_and_count_calls(
    metrics: InProcessMetrics,
) -> None:
    from nexa_adapters.http import ResilientClient, RetryPolicy

    seen: list[httpx.Headers] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers)
        return httpx.Response(200, json={})

    async def no_sleep(_: float) -> None:
        return None

    client = ResilientClient(
        "hotelbeds",
        "https://api.hotelbeds.example",
        policy=RetryPolicy(attempts=1),
        transport=httpx.MockTransport(handler),
        sleep=no_sleep,
    )

    async def partner_headers() -> dict[str, str]:
        return {"Api-Key": "k"}

    with bind_correlation(CORR):
        await client.request(
            "GET",
            "/hotels",
            tenant=Urn("airline", "LAN"),
            operation="search",
            headers=partner_headers,
        )
    assert seen[0]["traceparent"].split("-")[1] == CORR.id
    assert seen[0][CORRELATION_HEADER] == str(CORR) and seen[0]["Api-Key"] == "k"
    assert (
        metrics.value(
            "nexa_partner_calls_total", partner="hotelbeds", operation="search", outcome="ok"
        )
        == 1
    )
    assert metrics.count("nexa_partner_seconds", partner="hotelbeds", operation="search") == 1
