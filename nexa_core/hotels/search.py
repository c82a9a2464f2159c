"""Search fan-out over every hotel provider, with a time box, strategies and a cache.

``merge-all`` (default) asks every provider at once and merges what arrives inside the
time box (default 2 s); providers that answer late are dropped and reported, their
partial absence never stalls the search. ``first-success`` asks providers one by one in
the given priority order and stops at the first non-empty answer (all inside the same
time box). Results are deduplicated (:func:`dedup_offers`), stamped with the time they
were fetched (``fetched_at``, from the injected clock) and cached per
(tenant, airport, check-in, check-out, rooms) for ``cache_ttl``.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import anyio
import attrs

from nexa_core.errors import InvalidInputError, NexaError
from nexa_core.hotels.dedup import dedup_offers
from nexa_core.model import HotelOffer
from nexa_core.ports import Clock, HotelProvider, HotelSearch
from nexa_core.tenancy import TenantContext

__all__ = [
    "HotelSearchService",
    "ProviderOutcome",
    "ProviderReport",
    "SearchResult",
    "SearchStrategy",
]


class SearchStrategy(enum.StrEnum):
    """How providers are combined."""

    MERGE_ALL = "merge-all"
    FIRST_SUCCESS = "first-success"


class ProviderOutcome(enum.StrEnum):
    """What happened to one provider in one search."""

    OK = "answered"
    EMPTY = "empty"  # answered with no offers
    LATE = "timed-out"  # did not answer inside the time box: dropped
    FAILED = "failed"
    SKIPPED = "skipped"  # first-success stopped before asking it


@attrs.frozen
class ProviderReport:
    """One provider's part in a search."""

    provider: str
    outcome: ProviderOutcome
    offers: int = 0
    elapsed_s: float = 0.0
    error: str | None = None


@attrs.frozen
class SearchResult:
    """Deduplicated offers plus how each provider did; ``cached`` on a cache hit."""

    offers: tuple[HotelOffer, ...]
    reports: tuple[ProviderReport, ...]
    fetched_at: datetime
    strategy: SearchStrategy
    cached: bool = False
    duplicates_dropped: int = 0

    @property
    def partial(self) -> bool:
        """Whether some provider was late or failed."""
        return any(
            r.outcome in (ProviderOutcome.LATE, ProviderOutcome.FAILED) for r in self.reports
        )

    def kept(self) -> dict[str, int]:
        """Offers left after dedup, per provider (an offer's vendor names its provider)."""
        out = {r.provider: 0 for r in self.reports}
        for offer in self.offers:
            if offer.vendor in out:
                out[offer.vendor] += 1
        return out

    def summary(self, timeout_s: float) -> dict[str, Any]:
        """A JSON-ready account of the search (stored on the allocation wave and shown by
        the demo summary and the case report): per provider its outcome, the offers it
        returned, the offers kept after dedup and how long it took."""
        kept = self.kept()
        return {
            "strategy": self.strategy.value,
            "time_box_s": timeout_s,
            "cached": self.cached,
            "fetched_at": self.fetched_at.isoformat(),
            "offers": len(self.offers),
            "duplicates_dropped": self.duplicates_dropped,
            "providers": [
                {
                    "provider": r.provider,
                    "outcome": r.outcome.value,
                    "offers": r.offers,
                    "kept": kept.get(r.provider, 0),
                    "elapsed_s": round(r.elapsed_s, 3),
                    "error": r.error,
                }
                for r in self.reports
            ],
        }


_CacheKey = tuple[str, str, str, str, int]


class HotelSearchService:
    """Fans a :class:`HotelSearch` out to providers (see the module docstring)."""

    def __init__(
        self,
        providers: Sequence[HotelProvider],
        clock: Clock,
        *,
        timeout_s: float = 2.0,
        strategy: SearchStrategy | str = SearchStrategy.MERGE_ALL,
        cache_ttl: timedelta = timedelta(minutes=5),
    ) -> None:
        if timeout_s <= 0 or not math.isfinite(timeout_s):
            raise InvalidInputError(
                "the search time box must be a positive number", field="timeout_s"
            )
        names = [p.name for p in providers]
        if len(set(names)) != len(names):
            raise InvalidInputError("hotel providers must have distinct names", field="providers")
        self.providers = tuple(providers)
        self.clock = clock
        self.timeout_s = timeout_s
        self.strategy = SearchStrategy(strategy)
        self.cache_ttl = cache_ttl
        self._cache: dict[_CacheKey, SearchResult] = {}

    @staticmethod
    def cache_key(tenant: TenantContext, request: HotelSearch) -> _CacheKey:
        """(tenant, airport, check-in, check-out, rooms)."""
        return (
            str(tenant.airline_urn),
            request.airport.iata,
            request.check_in.isoformat(),
            request.check_out.isoformat(),
            request.rooms,
        )

    def invalidate(self, tenant: TenantContext | None = None) -> None:
        """Drop cached results (of one tenant, or all)."""
        if tenant is None:
            self._cache.clear()
            return
        for key in [k for k in self._cache if k[0] == str(tenant.airline_urn)]:
            del self._cache[key]

    async def search(self, tenant: TenantContext, request: HotelSearch) -> SearchResult:
        """Offers for ``request`` (cached when fresh). The request's airline must be the
        tenant's."""
        if request.airline_urn != tenant.airline_urn:
            raise InvalidInputError("the search's airline is not the tenant's", field="airline_urn")
        if request.check_out <= request.check_in:
            raise InvalidInputError("check-out must be after check-in", field="check_out")
        if request.rooms <= 0:
            raise InvalidInputError("rooms must be positive", field="rooms")
        key = self.cache_key(tenant, request)
        now = self.clock.now()
        hit = self._cache.get(key)
        if hit is not None and now - hit.fetched_at < self.cache_ttl:
            return attrs.evolve(hit, cached=True)
        if self.strategy is SearchStrategy.MERGE_ALL:
            raw, reports = await self._merge_all(request)
        else:
            raw, reports = await self._first_success(request)
        fetched = self.clock.now()
        stamped = [attrs.evolve(o, fetched_at=fetched) for o in raw]
        deduped = dedup_offers(stamped)
        result = SearchResult(
            offers=deduped.offers,
            reports=reports,
            fetched_at=fetched,
            strategy=self.strategy,
            duplicates_dropped=len(deduped.merged),
        )
        self._cache[key] = result
        return result

    async def _ask(
        self, provider: HotelProvider, request: HotelSearch
    ) -> tuple[list[HotelOffer], ProviderReport]:
        started = anyio.current_time()
        try:
            offers = list(await provider.search(request))
        except NexaError as exc:
            return [], ProviderReport(
                provider.name,
                ProviderOutcome.FAILED,
                elapsed_s=anyio.current_time() - started,
                error=f"{type(exc).__name__}: {exc.message}",
            )
        except Exception as exc:  # a buggy adapter must not break the search
            return [], ProviderReport(
                provider.name,
                ProviderOutcome.FAILED,
                elapsed_s=anyio.current_time() - started,
                error=f"{type(exc).__name__}",
            )
        outcome = ProviderOutcome.OK if offers else ProviderOutcome.EMPTY
        return offers, ProviderReport(
            provider.name, outcome, len(offers), anyio.current_time() - started
        )

    async def _merge_all(
        self, request: HotelSearch
    ) -> tuple[list[HotelOffer], tuple[ProviderReport, ...]]:
        done: dict[str, tuple[list[HotelOffer], ProviderReport]] = {}

        async def run(p: HotelProvider) -> None:
            done[p.name] = await self._ask(p, request)

        with anyio.move_on_after(self.timeout_s):
            async with anyio.create_task_group() as tg:
                for p in self.providers:
                    tg.start_soon(run, p)
        offers: list[HotelOffer] = []
        reports: list[ProviderReport] = []
        for p in self.providers:
            if p.name in done:
                got, report = done[p.name]
                offers.extend(got)
                reports.append(report)
            else:
                reports.append(
                    ProviderReport(p.name, ProviderOutcome.LATE, elapsed_s=self.timeout_s)
                )
        return offers, tuple(reports)

    async def _first_success(
        self, request: HotelSearch
    ) -> tuple[list[HotelOffer], tuple[ProviderReport, ...]]:
        reports: list[ProviderReport] = []
        found: list[HotelOffer] = []
        deadline = anyio.current_time() + self.timeout_s
        for p in self.providers:
            if found:
                reports.append(ProviderReport(p.name, ProviderOutcome.SKIPPED))
                continue
            remaining = deadline - anyio.current_time()
            result: tuple[list[HotelOffer], ProviderReport] | None = None
            if remaining > 0:
                with anyio.move_on_after(remaining):
                    result = await self._ask(p, request)
            if result is None:
                reports.append(
                    ProviderReport(p.name, ProviderOutcome.LATE, elapsed_s=max(0.0, remaining))
                )
                continue
            got, report = result
            reports.append(report)
            found = got
        return found, tuple(reports)
