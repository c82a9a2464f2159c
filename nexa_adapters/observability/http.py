"""Outbound HTTP propagation: ``traceparent`` and ``X-Nexa-Correlation`` on every request.

Either add the event hook to a client (:func:`instrument_client`) or wrap its transport
(:class:`TracingTransport`, which also times the call per partner). Existing headers win:
a caller that already set ``traceparent`` keeps it.
"""

from __future__ import annotations

from typing import Any

import httpx

from nexa_core.tracing import carrier, partner_call

__all__ = ["TracingTransport", "add_trace_headers", "add_trace_headers_async", "instrument_client"]


def add_trace_headers(request: httpx.Request) -> None:
    """httpx request hook (sync clients): add the propagation headers."""
    for name, value in carrier().items():
        if name not in request.headers:
            request.headers[name] = value


async def add_trace_headers_async(request: httpx.Request) -> None:
    """httpx request hook (async clients): add the propagation headers."""
    add_trace_headers(request)


def instrument_client(client: httpx.Client | httpx.AsyncClient) -> Any:
    """Add the propagation hook to ``client`` (once) and return it."""
    hook: Any = (
        add_trace_headers_async if isinstance(client, httpx.AsyncClient) else add_trace_headers
    )
    hooks = client.event_hooks
    request_hooks = list(hooks.get("request", []))
    if hook not in request_hooks:
        request_hooks.append(hook)
    client.event_hooks = {**hooks, "request": request_hooks}
    return client


class TracingTransport(httpx.AsyncBaseTransport):
    """Wraps an async transport: propagation headers plus a timed partner span/metric."""

    def __init__(self, inner: httpx.AsyncBaseTransport, *, partner: str) -> None:
        self._inner = inner
        self._partner = partner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send ``request`` with trace headers, timed as ``partner``/``METHOD``."""
        add_trace_headers(request)
        with partner_call(self._partner, request.method.lower()):
            return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        """Close the wrapped transport."""
        await self._inner.aclose()
