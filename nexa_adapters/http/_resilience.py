"""The resilience layer every HTTP partner adapter shares.

:class:`ResilientClient` wraps one :class:`httpx.AsyncClient` per partner and, for every
call: asks the circuit breaker of ``<tenant>:<vendor>`` (:class:`CircuitBreakers` port),
takes a token from the cluster-wide bucket ``<vendor>.<operation>`` (:class:`RateLimiter`
port), builds the headers afresh (so signatures and tokens are current on every attempt),
sends with a timeout, refreshes credentials once on 401, retries 429/5xx/timeouts with
exponential backoff and jitter (tenacity) honouring ``Retry-After``, feeds the outcome to
the breaker, and translates failures into the :class:`~nexa_core.errors.NexaError` tree:

=====================  =================================  =========
HTTP outcome           error                              retried
=====================  =================================  =========
timeout                ProviderTimeoutError               yes
connection error       ProviderUnavailableError           yes
429                    RateLimitedError(retry_after)      yes
500, 502, 503, 504     ProviderUnavailableError           yes
401/403 after refresh  ProviderAuthError                  no
404                    ProviderNotFoundError              no
other 4xx              ProviderRejectedError              no
bad JSON / schema      MalformedResponseError             no
=====================  =================================  =========

Vendors refine the table with an ``classify`` hook (e.g. Amadeus' code 38194 "rate
limit" inside a 400, Hotelbeds' ``INSUFFICIENT_ALLOTMENT``). Messages carry the vendor,
operation, status and the vendor's error code only — never credentials or payloads.
"""

from __future__ import annotations

import email.utils
import json
import logging
import random
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar

import anyio
import attrs
import httpx
from pydantic import BaseModel, ValidationError
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt

from nexa_core.errors import (
    CircuitOpenError,
    MalformedResponseError,
    NexaError,
    ProviderAuthError,
    ProviderNotFoundError,
    ProviderRejectedError,
    ProviderTimeoutError,
    ProviderUnavailableError,
    RateLimitedError,
    TransientProviderError,
)
from nexa_core.ports import CircuitBreakers, RateLimiter
from nexa_core.tracing import carrier, partner_call
from nexa_core.urn import Urn

__all__ = [
    "Classifier",
    "ResilientClient",
    "RetryPolicy",
    "default_error",
    "parse_json",
    "parse_model",
    "retry_after_seconds",
]

M = TypeVar("M", bound=BaseModel)

#: One line per partner attempt: vendor, operation, tenant, status or error, milliseconds.
#: Never headers, bodies, URLs with credentials or contact data.
log = logging.getLogger("nexa.partners")

#: ``classify(response, operation) -> NexaError | None``: a vendor's refinement of the table.
Classifier = Callable[[httpx.Response, str], NexaError | None]
HeaderFactory = Callable[[], Awaitable[Mapping[str, str]]]


@attrs.frozen
class RetryPolicy:
    """How often and how long to retry transient failures."""

    attempts: int = 3
    base_delay: float = 0.25
    max_delay: float = 8.0
    jitter: float = 0.25
    max_retry_after: float = 30.0
    timeout: float = 10.0
    rate: float = 10.0  # tokens per second per <vendor>.<operation>
    burst: int | None = None
    rate_deadline: float = 2.0


def retry_after_seconds(value: str | None, *, now: datetime | None = None) -> float | None:
    """Parse ``Retry-After`` (delta seconds or an HTTP date) into seconds."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def parse_json(response: httpx.Response, vendor: str, operation: str) -> Any:
    """The response's JSON or MalformedResponseError."""
    try:
        return response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise MalformedResponseError(
            f"{vendor} {operation}: response is not JSON",
            vendor=vendor,
            operation=operation,
            status=response.status_code,
        ) from None


def parse_model(model: type[M], data: Any, vendor: str, operation: str) -> M:
    """Validate ``data`` into a vendor DTO or raise MalformedResponseError (paths only)."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        where = sorted({".".join(str(p) for p in e["loc"]) or "<root>" for e in exc.errors()})
        raise MalformedResponseError(
            f"{vendor} {operation}: response does not match the contract at {', '.join(where[:5])}",
            vendor=vendor,
            operation=operation,
            fields=",".join(where[:5]),
        ) from None


def _vendor_code(response: httpx.Response) -> str:
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return ""
    code = ""
    if isinstance(body, dict):
        errs = body.get("errors")
        if isinstance(errs, list) and errs and isinstance(errs[0], dict):
            code = str(errs[0].get("code") or errs[0].get("title") or "")
        err = body.get("error")
        if not code and isinstance(err, dict):
            code = str(err.get("code") or "")
        elif not code and isinstance(err, str):
            code = err
        if not code and "code" in body:
            code = str(body["code"])
    return code[:64]


def default_error(response: httpx.Response, vendor: str, operation: str) -> NexaError:
    """The generic status → error table (see the module docstring)."""
    status = response.status_code
    code = _vendor_code(response)
    ctx: dict[str, Any] = {"vendor": vendor, "operation": operation, "status": status}
    if code:
        ctx["vendor_code"] = code
    what = f"{vendor} {operation}: HTTP {status}{f' ({code})' if code else ''}"
    if status == 429:
        return RateLimitedError(
            f"{what}: rate limited",
            retry_after=retry_after_seconds(response.headers.get("Retry-After")),
            **ctx,
        )
    if status in (408, 504):
        return ProviderTimeoutError(f"{what}: timed out", **ctx)
    if status >= 500:
        return ProviderUnavailableError(f"{what}: unavailable", **ctx)
    if status in (401, 403):
        return ProviderAuthError(f"{what}: credentials refused", **ctx)
    if status == 404:
        # a partner's 404 is a provider failure the saga classifies, never a missing
        # record of Nexa's own store (which callers handle as NotFoundError)
        return ProviderNotFoundError(f"{what}: not found", **ctx)
    return ProviderRejectedError(f"{what}: rejected", **ctx)


def _retryable(exc: BaseException) -> bool:
    return isinstance(exc, TransientProviderError) and not isinstance(exc, CircuitOpenError)


def _safe_to_repeat(exc: BaseException) -> bool:
    """For calls with side effects: only failures where the partner surely did nothing."""
    if isinstance(exc, RateLimitedError) and not isinstance(exc, CircuitOpenError):
        return True
    return isinstance(exc, TransientProviderError) and exc.context.get("sent") is False


class ResilientClient:
    """One partner's HTTP client with the shared resilience behaviour.

    ``rate_limiter`` and ``breakers`` are the coordination ports (cluster-wide when the
    coordination store is Redis/PostgreSQL); without them those steps are skipped.
    ``sleep`` is injectable so tests do not wait for real backoffs.
    """

    def __init__(
        self,
        vendor: str,
        base_url: str,
        *,
        policy: RetryPolicy | None = None,
        rate_limiter: RateLimiter | None = None,
        breakers: CircuitBreakers | None = None,
        classify: Classifier | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.vendor = vendor
        self.base_url = base_url.rstrip("/")
        self.policy = policy or RetryPolicy()
        self.rate_limiter = rate_limiter
        self.breakers = breakers
        self.classify = classify
        self._http = httpx.AsyncClient(
            base_url=self.base_url, timeout=self.policy.timeout, transport=transport
        )
        self._sleep = sleep or anyio.sleep
        self._rng = rng or random.Random()
        self.attempts = 0  # calls that reached the network (observable in tests)
        self.slept: deque[float] = deque(maxlen=64)  # recent backoffs (observability)

    def __repr__(self) -> str:
        return f"ResilientClient(vendor={self.vendor!r}, base_url={self.base_url!r})"

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    def breaker_key(self, tenant: Urn) -> str:
        """``<tenant id>:<vendor>`` (the coordination store's per-tenant breaker key)."""
        return f"{tenant.id}:{self.vendor}"

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, RateLimitedError) and exc.retry_after is not None:
            return float(min(exc.retry_after, self.policy.max_retry_after))
        n = state.attempt_number - 1
        delay = min(self.policy.max_delay, self.policy.base_delay * (2**n))
        return float(delay + self._rng.uniform(0, self.policy.jitter))

    async def _do_sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        await self._sleep(seconds)

    async def request(
        self,
        method: str,
        path: str,
        *,
        tenant: Urn,
        operation: str,
        headers: HeaderFactory | None = None,
        refresh: Callable[[], Awaitable[None]] | None = None,
        ok: frozenset[int] = frozenset({200, 201, 202, 204}),
        idempotent: bool = True,
        **kwargs: Any,
    ) -> httpx.Response:
        """Send with breaker, rate limit, one 401 refresh and retries; the final response.

        ``headers`` is awaited before every attempt; ``refresh`` (if given) is awaited
        once after a 401 and the attempt repeated. ``idempotent=False`` for calls with
        side effects the partner cannot deduplicate (a booking, a ride, a message): they are
        repeated only after a 429 or when the request never left (connect error/timeout),
        never after a read timeout or a 5xx, where the partner may have acted.
        Responses outside ``ok`` raise (see the table).
        """
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.policy.attempts),
            wait=self._wait,
            retry=retry_if_exception(_retryable if idempotent else _safe_to_repeat),
            sleep=self._do_sleep,
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                return await self._attempt(
                    method,
                    path,
                    tenant=tenant,
                    operation=operation,
                    headers=headers,
                    refresh=refresh,
                    ok=ok,
                    **kwargs,
                )
        raise AssertionError("unreachable")  # pragma: no cover

    async def _send(
        self, method: str, path: str, headers: HeaderFactory | None, operation: str, **kw: Any
    ) -> httpx.Response:
        # W3C trace context + correlation URN first; the partner's own headers win
        hdrs = {**carrier(), **(dict(await headers()) if headers else {})}
        self.attempts += 1
        started = time.perf_counter()
        try:
            with partner_call(self.vendor, operation):
                response = await self._http.request(method, path, headers=hdrs, **kw)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            log.warning("%s %s: %s", self.vendor, operation, type(exc).__name__)
            cls = (
                ProviderTimeoutError
                if isinstance(exc, httpx.ConnectTimeout)
                else (ProviderUnavailableError)
            )
            raise cls(
                f"{self.vendor} {operation}: could not connect ({type(exc).__name__})",
                vendor=self.vendor,
                operation=operation,
                sent=False,
            ) from None
        except httpx.TimeoutException:
            log.warning("%s %s: timeout", self.vendor, operation)
            raise ProviderTimeoutError(
                f"{self.vendor} {operation}: timed out after {self.policy.timeout}s",
                vendor=self.vendor,
                operation=operation,
            ) from None
        except httpx.TransportError as exc:
            log.warning("%s %s: %s", self.vendor, operation, type(exc).__name__)
            raise ProviderUnavailableError(
                f"{self.vendor} {operation}: connection failed ({type(exc).__name__})",
                vendor=self.vendor,
                operation=operation,
            ) from None
        log.info(
            "%s %s: HTTP %s in %.0f ms",
            self.vendor,
            operation,
            response.status_code,
            (time.perf_counter() - started) * 1000,
        )
        return response

    async def _attempt(
        self,
        method: str,
        path: str,
        *,
        tenant: Urn,
        operation: str,
        headers: HeaderFactory | None,
        refresh: Callable[[], Awaitable[None]] | None,
        ok: frozenset[int],
        **kwargs: Any,
    ) -> httpx.Response:
        key = self.breaker_key(tenant)
        if self.breakers is not None and not await self.breakers.allow(key):
            raise CircuitOpenError(
                f"{self.vendor}: circuit open for {tenant.id}", vendor=self.vendor, breaker=key
            )
        if self.rate_limiter is not None:
            await self.rate_limiter.acquire(
                f"{self.vendor}.{operation}",
                rate=self.policy.rate,
                burst=self.policy.burst,
                deadline=self.policy.rate_deadline,
            )
        try:
            response = await self._send(method, path, headers, operation, **kwargs)
            if response.status_code == 401 and refresh is not None:
                await refresh()
                response = await self._send(method, path, headers, operation, **kwargs)
            if response.status_code not in ok:
                error = (self.classify(response, operation) if self.classify else None) or (
                    default_error(response, self.vendor, operation)
                )
                raise error
        except NexaError as exc:
            # only transient failures count against the partner's health
            if self.breakers is not None:
                await self.breakers.record(key, success=not isinstance(exc, TransientProviderError))
            raise
        if self.breakers is not None:
            await self.breakers.record(key, success=True)
        return response
