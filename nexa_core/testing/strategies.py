"""Hypothesis strategies for URNs and manifests (shipped for adapter and plugin tests)."""

from __future__ import annotations

import string
from datetime import date
from typing import Any

from hypothesis import strategies as st

from nexa_core.model import PassengerType, SpecialNeed, Tier
from nexa_core.urn import ENTITY_TYPES, Urn

__all__ = ["manifests", "urn_ids", "urns"]

_GENERIC_FIRST = string.ascii_letters + string.digits
_GENERIC_REST = _GENERIC_FIRST + "._~@+=-"


def urn_ids(entity: str) -> st.SearchStrategy[str]:
    """Valid ids for ``entity``."""
    if entity == "airport":
        return st.text(string.ascii_uppercase, min_size=3, max_size=3)
    if entity == "airline":
        return st.text(string.ascii_letters + string.digits, min_size=2, max_size=16)
    if entity == "correlation":
        return st.text("0123456789abcdef", min_size=1, max_size=32).filter(
            lambda s: set(s) != {"0"}
        )
    if entity == "flight":
        return st.builds(
            lambda c, n, d: f"{c}{n}@{d:%Y%m%d}",
            st.text(string.ascii_uppercase + string.digits, min_size=2, max_size=2),
            st.integers(1, 9999),
            st.dates(min_value=date(1900, 1, 1), max_value=date(9999, 12, 31)),
        )
    return st.builds(
        lambda a, b: a + b,
        st.sampled_from(_GENERIC_FIRST),
        st.text(_GENERIC_REST, max_size=40),
    )


_TOKENS = st.from_regex(r"[a-z][a-z0-9_-]{0,15}", fullmatch=True)


@st.composite
def urns(draw: st.DrawFn, entity: str | None = None) -> Urn:
    """Any valid URN (optionally of one entity type)."""
    ent = entity or draw(st.sampled_from(sorted(ENTITY_TYPES)))
    ident = draw(urn_ids(ent))
    vendor = draw(st.none() | _TOKENS)
    status = draw(st.none() | _TOKENS)
    return Urn(ent, ident, vendor, status)


@st.composite
def manifests(
    draw: st.DrawFn, *, max_groups: int = 12, max_group_size: int = 9, mixed_tiers: bool = False
) -> dict[str, Any]:
    """A manifest document (the input format of ``nexa case open``)."""
    n = draw(st.integers(1, max_groups))
    groups = []
    pid = 0
    for g in range(n):
        size = draw(st.integers(1, max_group_size))
        tier = draw(st.sampled_from(list(Tier)))
        pax = []
        for i in range(size):
            pid += 1
            ptype = PassengerType.ADT if i == 0 else draw(st.sampled_from(list(PassengerType)))
            pax.append(
                {
                    "urn": f"urn:passenger:p-{pid}:vendor:latam",
                    "name": f"Pax {pid}",
                    "email": f"p{pid}@example.com",
                    "language": draw(st.sampled_from(["en", "es", "pt"])),
                    "cabin": (draw(st.sampled_from(list(Tier))) if mixed_tiers else tier).value,
                    "type": ptype.value,
                    "special_needs": [
                        s.value
                        for s in draw(st.sets(st.sampled_from(list(SpecialNeed)), max_size=1))
                    ],
                }
            )
        groups.append(
            {
                "group_id": f"G{g + 1}",
                "pnr": f"urn:pnr:P{g + 1:05d}:vendor:amadeus",
                "passengers": pax,
            }
        )
    return {
        "airline": "urn:airline:LAN",
        "external_event_id": f"EV-{draw(st.integers(1, 10**9))}",
        "airport": "SCL",
        "flight": {
            "urn": "urn:flight:LA500@20260505",
            "destination": "EZE",
            "scheduled_departure": "2026-05-05T18:00:00-04:00",
            "status": "CANCELLED",
        },
        "disrupted_at": "2026-05-05T17:00:00-04:00",
        "next_departure": "2026-05-06T10:00:00-04:00",
        "groups": groups,
    }
