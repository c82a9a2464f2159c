"""Throughput of the security hot paths (prints numbers; no assertions).

python benchmarks/security_bench.py
"""

from __future__ import annotations

import io
import json
import logging
import time

from nexa_adapters.documents.manifest import parse_manifest
from nexa_adapters.documents.safe_json import LIMITS, load_json
from nexa_adapters.observability import bind_correlation, configure_logging, get_logger, mask_value
from nexa_core.pii import find_card_numbers
from nexa_core.urn import new_correlation


def _manifest(passengers: int) -> dict[str, object]:
    groups = []
    for g in range(passengers // 3):
        groups.append(
            {
                "group_id": f"G{g}",
                "pnr": f"urn:pnr:P{g:06d}:vendor:amadeus",
                "passengers": [
                    {
                        "urn": f"urn:passenger:p-{g}-{i}:vendor:latam",
                        "name": f"Pax {g} {i}",
                        "email": f"p{g}.{i}@example.com",
                        "phone": "+56912345678",
                        "cabin": "ECONOMY",
                    }
                    for i in range(3)
                ],
            }
        )
    return {
        "airline": "urn:airline:LAN",
        "external_event_id": "EV-1",
        "airport": "SCL",
        "flight": {
            "urn": "urn:flight:LA500@20260505",
            "destination": "EZE",
            "scheduled_departure": "2026-05-05T18:00:00-04:00",
        },
        "disrupted_at": "2026-05-05T17:00:00-04:00",
        "groups": groups,
    }


def main() -> None:
    stream = io.StringIO()
    configure_logging(level="INFO", json_lines=True, stream=stream)
    log = get_logger("bench")
    n = 20_000
    with bind_correlation(new_correlation()):
        t = time.perf_counter()
        for i in range(n):
            log.info("case step", case_urn=f"urn:case:c-{i}", email="ana@example.com", n=i)
        dt = time.perf_counter() - t
    print(f"log lines (masked, JSON): {n / dt:,.0f} lines/s")
    logging.getLogger().handlers.clear()

    event = {
        "contact": {"email": "ana@example.com", "phone": "+56912345678"},
        "note": "card 4111 1111 1111 1111",
        "token": "abc",
        "urns": ["urn:case:c-1"] * 5,
    }
    t = time.perf_counter()
    for _ in range(n):
        mask_value(event)
    print(f"mask_value (nested event): {n / (time.perf_counter() - t):,.0f} events/s")

    raw = json.dumps(_manifest(30_000)).encode()
    t = time.perf_counter()
    doc = load_json(raw, limits=LIMITS["manifest"])
    dt = time.perf_counter() - t
    print(f"safe JSON load: {len(raw) / dt / 1e6:,.1f} MB/s ({len(raw) / 1e6:.1f} MB)")
    t = time.perf_counter()
    parse_manifest(doc)
    print(f"parse_manifest (30k passengers, all checks): {time.perf_counter() - t:.2f} s")

    text = ("ref 123456 room 12 call later " * 40_000)[:1_000_000]
    t = time.perf_counter()
    find_card_numbers(text)
    print(f"find_card_numbers: {1 / (time.perf_counter() - t):,.1f} MB/s")


if __name__ == "__main__":
    main()
