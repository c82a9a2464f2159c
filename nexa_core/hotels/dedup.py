"""Cross-provider deduplication of canonical offers (three layers, in order).

1. **Shared external id**: two offers listing the same ``(system, id)`` pair.
2. **Geo + stars**: within 100 m of each other and the same star rating.
3. **Name + address**: exact match after normalisation (case, accents, punctuation,
   whitespace).

Duplicates form clusters (union-find, so A~B and B~C puts A, B, C together). Each
cluster keeps its cheapest offer; a tie goes to a direct contract (vendor ``direct``),
then to the lexically smallest offer URN (deterministic).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Sequence
from decimal import Decimal

import attrs

from nexa_core.geo import haversine_km
from nexa_core.model import HotelOffer

__all__ = ["DUPLICATE_RADIUS_M", "DedupResult", "dedup_offers", "normalize_text"]

DUPLICATE_RADIUS_M = 100.0
_NON_WORD = re.compile(r"[^a-z0-9]+")


def normalize_text(text: str) -> str:
    """Lower case, accents stripped, punctuation and runs of spaces folded to one space."""
    decomposed = unicodedata.normalize("NFKD", text)
    ascii_text = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    return _NON_WORD.sub(" ", ascii_text).strip()


@attrs.frozen
class DedupResult:
    """Kept offers and, per kept offer URN, the URNs it absorbed with the layer matched."""

    offers: tuple[HotelOffer, ...]
    merged: tuple[tuple[str, str, str], ...]  # (kept urn, dropped urn, layer)


class _UnionFind:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, a: int, b: int) -> bool:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return False
        self.parent[max(ra, rb)] = min(ra, rb)
        return True


def _price(offer: HotelOffer) -> Decimal:
    cheapest = offer.cheapest_rate()
    return cheapest.amount if cheapest is not None else Decimal("Infinity")


def dedup_offers(offers: Sequence[HotelOffer]) -> DedupResult:
    """Collapse duplicates across providers (see the module docstring)."""
    n = len(offers)
    uf = _UnionFind(n)
    layer: dict[tuple[int, int], str] = {}

    def join(a: int, b: int, why: str) -> None:
        if uf.union(a, b):
            layer[(min(a, b), max(a, b))] = why

    by_ext: dict[tuple[str, str], int] = {}
    for i, o in enumerate(offers):
        for system, ext in o.external_ids:
            key = (system.lower(), ext.strip().lower())
            if key in by_ext:
                join(by_ext[key], i, "external-id")
            else:
                by_ext[key] = i
    # geo + stars: grid cells at least 111 m wide at every latitude present, so a pair
    # within 100 m always lies in the same or a neighbouring cell
    max_lat = max((abs(o.latitude) for o in offers), default=0.0)
    lat_step = 0.001
    lon_step = 0.001 / max(math.cos(math.radians(min(max_lat, 89.0))), 0.01)

    def cell(o: HotelOffer) -> tuple[int, int]:
        return (math.floor(o.latitude / lat_step), math.floor(o.longitude / lon_step))

    cells: dict[tuple[int, int], list[int]] = {}
    for i, o in enumerate(offers):
        cells.setdefault(cell(o), []).append(i)
    for i, o in enumerate(offers):
        ci, cj = cell(o)
        for di in (-1, 0, 1):
            for dj in (-1, 0, 1):
                for j in cells.get((ci + di, cj + dj), ()):
                    if j <= i or offers[j].stars != o.stars or o.stars is None:
                        continue
                    km = haversine_km(
                        o.latitude, o.longitude, offers[j].latitude, offers[j].longitude
                    )
                    if km * 1000 <= DUPLICATE_RADIUS_M:
                        join(i, j, "geo-stars")
    by_name: dict[tuple[str, str], int] = {}
    for i, o in enumerate(offers):
        key = (normalize_text(o.name), normalize_text(o.address))
        if key in by_name:
            join(by_name[key], i, "name-address")
        else:
            by_name[key] = i

    clusters: dict[int, list[int]] = {}
    for i in range(n):
        clusters.setdefault(uf.find(i), []).append(i)
    kept: list[HotelOffer] = []
    merged: list[tuple[str, str, str]] = []
    for root in sorted(clusters):
        members = clusters[root]
        best = min(
            members,
            key=lambda i: (_price(offers[i]), offers[i].vendor != "direct", str(offers[i].urn)),
        )
        kept.append(offers[best])
        for i in members:
            if i != best:
                why = layer.get((min(i, best), max(i, best))) or "transitive"
                merged.append((str(offers[best].urn), str(offers[i].urn), why))
    return DedupResult(tuple(kept), tuple(sorted(merged)))
