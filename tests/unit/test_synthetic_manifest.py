from __future__ import annotations

from collections import Counter

from nexa_adapters.documents import parse_manifest
from nexa_adapters.sandbox import synthetic_manifest


def test_synthetic_manifest_is_valid_deterministic_and_sized() -> None:
    doc = synthetic_manifest("SCL", 1000, seed=3)
    assert doc == synthetic_manifest("SCL", 1000, seed=3)
    m = parse_manifest(doc)
    assert m.passengers == 1000
    tiers = Counter(g.tier.value for g in m.groups)
    assert set(tiers) == {"ECONOMY", "PREMIUM_ECONOMY", "BUSINESS", "FIRST", "CREW"}
    assert all(len(g.tiers) == 1 for g in m.groups)
    assert max(g.size for g in m.groups) <= 9
    assert doc != synthetic_manifest("SCL", 1000, seed=4)
