"""Throughput of webhook verification and per-call overhead of the HTTP resilience layer.

Prints numbers; asserts nothing. Run: ``python benchmarks/partner_adapters.py``.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

import httpx

from nexa_adapters.http import ResilientClient
from nexa_adapters.http.twilio import compute_signature, validate_signature
from nexa_adapters.webhooks import NexaWebhook, StandardWebhook
from nexa_core.urn import Urn

N = 20_000
BODY = b'{"type":"reservation.confirmed","data":{"urn":"urn:reservation:r-1"}}' * 8


def bench(label: str, n: int, fn: object) -> None:
    start = time.perf_counter()
    for _ in range(n):
        fn()  # type: ignore[operator]
    took = time.perf_counter() - start
    print(f"{label:<44} {n / took:>12,.0f} /s   {took / n * 1e6:8.1f} µs each")


def main() -> None:
    now = datetime.now(UTC)
    std = StandardWebhook("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
    std_headers = std.headers("msg_1", now, BODY)
    bench(
        "StandardWebhook.verify (576-byte body)", N, lambda: std.verify(BODY, std_headers, now=now)
    )
    nexa = NexaWebhook("s3cret")
    nexa_headers = nexa.headers(
        event_urn=Urn("event", "e-1"), tenant=Urn("airline", "LAN"), timestamp=now, body=BODY
    )
    bench("NexaWebhook.verify (576-byte body)", N, lambda: nexa.verify(BODY, nexa_headers, now=now))
    params = {f"Param{i}": f"value{i}" for i in range(12)}
    sig = compute_signature("token", "https://nexa.example/hooks/twilio", params)
    bench(
        "twilio.validate_signature (12 params)",
        N,
        lambda: validate_signature("token", "https://nexa.example/hooks/twilio", params, sig),
    )

    async def calls(n: int) -> float:
        transport = httpx.MockTransport(lambda request: httpx.Response(200, json={"ok": True}))
        client = ResilientClient("bench", "https://partner.example", transport=transport)
        raw = httpx.AsyncClient(base_url="https://partner.example", transport=transport)
        tenant = Urn("airline", "LAN")
        for _ in range(200):  # warm both paths up
            await raw.get("/x")
            await client.request("GET", "/x", tenant=tenant, operation="op")
        start = time.perf_counter()
        for _ in range(n):
            await raw.get("/x")
        base = time.perf_counter() - start
        start = time.perf_counter()
        for _ in range(n):
            await client.request("GET", "/x", tenant=tenant, operation="op")
        wrapped = time.perf_counter() - start
        await client.aclose()
        await raw.aclose()
        return (wrapped - base) / n

    overhead = asyncio.run(calls(2_000))
    print(f"{'ResilientClient overhead per call (mock)':<44} {overhead * 1e6:>12.1f} µs")


if __name__ == "__main__":
    main()
