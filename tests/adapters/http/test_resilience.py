"""The shared resilience layer: retries, Retry-After, timeouts, breaker, rate limit, errors."""

from __future__ import annotations

import random

import httpx
import pytest
import respx

from nexa_adapters.http._resilience import (
    ResilientClient,
    RetryPolicy,
    parse_model,
    retry_after_seconds,
)
from nexa_core.errors import (
    CircuitOpenError,
    MalformedResponseError,
    ProviderAuthError,
    ProviderNotFoundError,
    ProviderRejectedError,
    ProviderTimeoutError,
    ProviderUnavailableError,
    RateLimitedError,
)
from nexa_core.urn import Urn
from tests.adapters.http.fakes import FakeBreakers, FakeRateLimiter

BASE = "https://partner.example"
LAN = Urn("airline", "LAN")


async def _no_sleep(_: float) -> None:
    return None


def _client(**kw: object) -> ResilientClient:
    kw.setdefault("sleep", _no_sleep)
    kw.setdefault("rng", random.Random(1))
    return ResilientClient("acme", BASE, **kw)  # type: ignore[arg-type]


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("status", "error"),
    [
        (400, ProviderRejectedError),
        (401, ProviderAuthError),
        (403, ProviderAuthError),
        (404, ProviderNotFoundError),
        (409, ProviderRejectedError),
        (422, ProviderRejectedError),
        (429, RateLimitedError),
        (500, ProviderUnavailableError),
        (502, ProviderUnavailableError),
        (503, ProviderUnavailableError),
        (504, ProviderTimeoutError),
    ],
)
async def test_status_maps_to_the_error_tree(status: int, error: type[Exception]) -> None:
    with respx.mock(base_url=BASE) as mock:
        mock.get("/x").respond(status, json={"errors": [{"code": 1, "title": "NOPE"}]})
        c = _client(policy=RetryPolicy(attempts=1))
        with pytest.raises(error) as info:
            await c.request("GET", "/x", tenant=LAN, operation="op")
    assert type(info.value) is error
    assert info.value.context["vendor"] == "acme"


@pytest.mark.anyio
async def test_5xx_is_retried_with_exponential_backoff_then_succeeds() -> None:
    with respx.mock(base_url=BASE) as mock:
        route = mock.get("/x")
        route.side_effect = [httpx.Response(503), httpx.Response(502), httpx.Response(200)]
        c = _client(policy=RetryPolicy(attempts=3, base_delay=1.0, jitter=0.5))
        r = await c.request("GET", "/x", tenant=LAN, operation="op")
    assert r.status_code == 200 and c.attempts == 3
    assert 1.0 <= c.slept[0] <= 1.5 and 2.0 <= c.slept[1] <= 2.5


@pytest.mark.anyio
async def test_429_honours_retry_after_seconds() -> None:
    with respx.mock(base_url=BASE) as mock:
        mock.get("/x").side_effect = [
            httpx.Response(429, headers={"Retry-After": "7"}),
            httpx.Response(200, json={}),
        ]
        c = _client()
        await c.request("GET", "/x", tenant=LAN, operation="op")
    assert list(c.slept) == [7.0]


@pytest.mark.anyio
async def test_retry_after_is_capped_and_gives_up_after_attempts() -> None:
    with respx.mock(base_url=BASE) as mock:
        mock.get("/x").respond(429, headers={"Retry-After": "3600"})
        c = _client(policy=RetryPolicy(attempts=2, max_retry_after=30))
        with pytest.raises(RateLimitedError) as info:
            await c.request("GET", "/x", tenant=LAN, operation="op")
    assert list(c.slept) == [30.0] and info.value.retry_after == 3600.0


def test_retry_after_parses_http_dates() -> None:
    from datetime import UTC, datetime

    now = datetime(2026, 5, 5, 12, 0, tzinfo=UTC)
    assert retry_after_seconds("Tue, 05 May 2026 12:00:09 GMT", now=now) == 9.0
    assert retry_after_seconds("garbage") is None and retry_after_seconds(None) is None


@pytest.mark.anyio
async def test_timeouts_become_provider_timeout_after_retries() -> None:
    with respx.mock(base_url=BASE) as mock:
        mock.get("/x").side_effect = httpx.ReadTimeout("slow")
        c = _client(policy=RetryPolicy(attempts=2))
        with pytest.raises(ProviderTimeoutError):
            await c.request("GET", "/x", tenant=LAN, operation="op")
    assert c.attempts == 2


@pytest.mark.anyio
async def test_connection_errors_become_unavailable() -> None:
    with respx.mock(base_url=BASE) as mock:
        mock.get("/x").side_effect = httpx.ConnectError("refused")
        c = _client(policy=RetryPolicy(attempts=1))
        with pytest.raises(ProviderUnavailableError):
            await c.request("GET", "/x", tenant=LAN, operation="op")


@pytest.mark.anyio
async def test_permanent_errors_are_not_retried() -> None:
    with respx.mock(base_url=BASE) as mock:
        mock.get("/x").respond(400)
        c = _client()
        with pytest.raises(ProviderRejectedError):
            await c.request("GET", "/x", tenant=LAN, operation="op")
    assert c.attempts == 1 and list(c.slept) == []


@pytest.mark.anyio
async def test_retry_false_sends_once() -> None:
    with respx.mock(base_url=BASE) as mock:
        mock.post("/x").respond(503)
        c = _client()
        with pytest.raises(ProviderUnavailableError):
            await c.request("POST", "/x", tenant=LAN, operation="op", idempotent=False)
    assert c.attempts == 1


@pytest.mark.anyio
async def test_headers_are_rebuilt_on_every_attempt() -> None:
    seen: list[str] = []
    n = iter(range(10))

    async def headers() -> dict[str, str]:
        return {"X-Attempt": str(next(n))}

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["X-Attempt"])
        return httpx.Response(503 if len(seen) < 3 else 200)

    with respx.mock(base_url=BASE) as mock:
        mock.get("/x").mock(side_effect=handler)
        await _client().request("GET", "/x", tenant=LAN, operation="op", headers=headers)
    assert seen == ["0", "1", "2"]


@pytest.mark.anyio
async def test_one_refresh_on_401_then_auth_error() -> None:
    refreshed: list[int] = []

    async def refresh() -> None:
        refreshed.append(1)

    with respx.mock(base_url=BASE) as mock:
        mock.get("/x").respond(401)
        c = _client()
        with pytest.raises(ProviderAuthError):
            await c.request("GET", "/x", tenant=LAN, operation="op", refresh=refresh)
    assert refreshed == [1] and c.attempts == 2


@pytest.mark.anyio
async def test_breaker_opens_per_partner_and_tenant_and_refuses_calls() -> None:
    breakers = FakeBreakers(threshold=2)
    with respx.mock(base_url=BASE) as mock:
        route = mock.get("/x").respond(503)
        c = _client(policy=RetryPolicy(attempts=5), breakers=breakers)
        with pytest.raises(CircuitOpenError):
            await c.request("GET", "/x", tenant=LAN, operation="op")
        assert route.call_count == 2
        assert await breakers.state("LAN:acme") == "open"
        assert await breakers.state("TAM:acme") == "closed"
        mock.get("/y").respond(200)
        await c.request("GET", "/y", tenant=Urn("airline", "TAM"), operation="op")


@pytest.mark.anyio
async def test_rejections_count_as_healthy_for_the_breaker() -> None:
    breakers = FakeBreakers(threshold=1)
    with respx.mock(base_url=BASE) as mock:
        mock.get("/x").respond(400)
        c = _client(breakers=breakers)
        with pytest.raises(ProviderRejectedError):
            await c.request("GET", "/x", tenant=LAN, operation="op")
    assert breakers.outcomes == [("LAN:acme", True)]


@pytest.mark.anyio
async def test_rate_limiter_is_asked_per_vendor_operation_and_can_refuse() -> None:
    limiter = FakeRateLimiter()
    with respx.mock(base_url=BASE) as mock:
        mock.get("/x").respond(200)
        c = _client(rate_limiter=limiter)
        await c.request("GET", "/x", tenant=LAN, operation="search")
        assert limiter.taken == {"acme.search": 1}
        limiter.deny.add("acme.booking")
        c2 = _client(rate_limiter=limiter, policy=RetryPolicy(attempts=1))
        with pytest.raises(RateLimitedError):
            await c2.request("GET", "/x", tenant=LAN, operation="booking")
        assert c2.attempts == 0


def test_parse_model_reports_paths_not_values() -> None:
    from pydantic import BaseModel

    class M(BaseModel):
        amount: int

    with pytest.raises(MalformedResponseError) as info:
        parse_model(M, {"amount": "4111111111111111x"}, "acme", "op")
    assert "amount" in str(info.value) and "4111" not in str(info.value)


@pytest.mark.anyio
async def test_with_the_in_process_coordination_the_breaker_opens_then_probes() -> None:
    from datetime import timedelta

    from nexa_adapters.inprocess.coordination import InProcessBreakers, InProcessRateLimiter
    from nexa_core.ports import BreakerSettings
    from nexa_core.runtime import FixedClock

    clock = FixedClock()
    breakers = InProcessBreakers(
        clock, BreakerSettings(failure_threshold=2, cooldown=timedelta(seconds=30))
    )
    with respx.mock(base_url=BASE) as mock:
        route = mock.get("/x")
        route.respond(503)
        c = _client(
            policy=RetryPolicy(attempts=4), breakers=breakers, rate_limiter=InProcessRateLimiter()
        )
        with pytest.raises(CircuitOpenError):
            await c.request("GET", "/x", tenant=LAN, operation="op")
        assert route.call_count == 2 and await breakers.state("LAN:acme") == "open"
        clock.advance(timedelta(seconds=31))
        route.respond(200)
        await c.request("GET", "/x", tenant=LAN, operation="op")  # the half-open probe
        assert await breakers.state("LAN:acme") == "closed"


@pytest.mark.anyio
async def test_non_idempotent_calls_are_repeated_only_when_the_partner_surely_did_nothing() -> None:
    with respx.mock(base_url=BASE) as mock:
        route = mock.post("/x")
        route.side_effect = [
            httpx.Response(429, headers={"Retry-After": "1"}),
            httpx.ConnectError("refused"),
            httpx.ConnectTimeout("no route"),
            httpx.Response(201),
        ]
        c = _client(policy=RetryPolicy(attempts=4))
        r = await c.request("POST", "/x", tenant=LAN, operation="op", idempotent=False)
        assert r.status_code == 201 and route.call_count == 4
        route.side_effect = [httpx.ReadTimeout("lost answer"), httpx.Response(201)]
        with pytest.raises(ProviderTimeoutError):
            await c.request("POST", "/x", tenant=LAN, operation="op", idempotent=False)
        assert route.call_count == 5
