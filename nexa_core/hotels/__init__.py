"""Hotel search: provider fan-out with a time box and cache, dedup, direct contracts."""

from nexa_core.hotels.contracts import TIER_TAG_PREFIX, DirectContracts, contract_offer
from nexa_core.hotels.dedup import DUPLICATE_RADIUS_M, DedupResult, dedup_offers, normalize_text
from nexa_core.hotels.search import (
    HotelSearchService,
    ProviderOutcome,
    ProviderReport,
    SearchResult,
    SearchStrategy,
)

__all__ = [
    "DUPLICATE_RADIUS_M",
    "TIER_TAG_PREFIX",
    "DedupResult",
    "DirectContracts",
    "HotelSearchService",
    "ProviderOutcome",
    "ProviderReport",
    "SearchResult",
    "SearchStrategy",
    "contract_offer",
    "dedup_offers",
    "normalize_text",
]
