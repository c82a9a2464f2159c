"""Synthetic hub-closure manifests: realistic PNR sizes, tiers and special needs."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from nexa_adapters.sandbox.inventory import airport

__all__ = ["synthetic_manifest"]

_FIRST = (
    "Ana",
    "Luis",
    "Maria",
    "Jose",
    "Camila",
    "Pedro",
    "Sofia",
    "Diego",
    "Lucia",
    "Mateo",
    "Valentina",
    "Joao",
    "Beatriz",
    "Emma",
    "Noah",
    "Olivia",
    "Liam",
    "Isabel",
    "Tomas",
)
_LAST = (
    "Silva",
    "Gonzalez",
    "Rojas",
    "Souza",
    "Munoz",
    "Perez",
    "Costa",
    "Lopez",
    "Smith",
    "Fernandez",
    "Castro",
    "Oliveira",
    "Diaz",
    "Torres",
    "Brown",
    "Vargas",
    "Reyes",
)
_LANGS = ("es", "es", "es", "pt", "pt", "en", "en", None)
_TIER_WEIGHTS = (
    ("ECONOMY", 78),
    ("PREMIUM_ECONOMY", 8),
    ("BUSINESS", 9),
    ("FIRST", 2),
    ("CREW", 3),
)
_SIZE_WEIGHTS = ((1, 40), (2, 28), (3, 13), (4, 10), (5, 4), (6, 2), (7, 1), (8, 1), (9, 1))
_NEEDS = ("WCHR", "WCHS", "WCHC", "BLND", "DEAF", "MEDA")


def synthetic_manifest(
    iata: str = "SCL",
    passengers: int = 500,
    *,
    seed: int = 7,
    airline: str = "LAN",
    carrier: str = "LA",
    destination: str = "EZE",
    event_id: str | None = None,
    disrupted_at: datetime | None = None,
    special_needs_rate: float = 0.02,
) -> dict[str, Any]:
    """A manifest document for a hub closure at ``iata`` (same output for the same seed)."""
    ap = airport(iata)
    rng = random.Random(f"manifest:{seed}:{iata}:{passengers}")
    tz = ZoneInfo(ap.timezone)
    when = disrupted_at or datetime(2026, 5, 5, 19, 30, tzinfo=tz)
    departure = when.replace(hour=20, minute=15)
    rebooked = (when + timedelta(days=1)).replace(hour=9, minute=40)
    tiers, tier_w = zip(*_TIER_WEIGHTS, strict=True)
    sizes, size_w = zip(*_SIZE_WEIGHTS, strict=True)
    groups: list[dict[str, Any]] = []
    pid = 0
    g = 0
    while pid < passengers:
        g += 1
        tier = rng.choices(tiers, tier_w)[0]
        size = 1 if tier == "CREW" else rng.choices(sizes, size_w)[0]
        size = min(size, passengers - pid)
        last = rng.choice(_LAST)
        lang = rng.choice(_LANGS)
        pax = []
        adults = 0
        for i in range(size):
            pid += 1
            if i == 0 or tier in ("CREW", "BUSINESS", "FIRST"):
                ptype = "ADT"
            else:
                ptype = rng.choices(("ADT", "CHD", "INF"), (55, 35, 10))[0]
                if ptype == "INF" and adults == 0:
                    ptype = "ADT"
            adults += ptype == "ADT"
            needs = [rng.choice(_NEEDS)] if rng.random() < special_needs_rate else []
            p: dict[str, Any] = {
                "urn": f"urn:passenger:p-{pid:06d}:vendor:{airline.lower()}",
                "name": f"{rng.choice(_FIRST)} {last}",
                "email": f"pax{pid:06d}@example.com",
                "cabin": tier,
                "type": ptype,
                "special_needs": needs,
            }
            if lang is not None:
                p["language"] = lang
            if rng.random() < 0.7:
                p["phone"] = f"+569{rng.randint(10000000, 99999999)}"
            pax.append(p)
        groups.append(
            {
                "group_id": f"G{g:05d}",
                "pnr": f"urn:pnr:{_pnr(rng)}{g:04d}:vendor:amadeus",
                "passengers": pax,
            }
        )
    return {
        "airline": f"urn:airline:{airline}",
        "external_event_id": event_id or f"HUB-{iata}-{seed}-{passengers}",
        "airport": iata,
        "flight": {
            "urn": f"urn:flight:{carrier}{800 + seed % 100}@{departure:%Y%m%d}",
            "destination": destination,
            "scheduled_departure": departure.isoformat(),
            "status": "CANCELLED",
        },
        "disrupted_at": when.isoformat(),
        "next_departure": rebooked.isoformat(),
        "groups": groups,
    }


def _pnr(rng: random.Random) -> str:
    return "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ") for _ in range(2))
