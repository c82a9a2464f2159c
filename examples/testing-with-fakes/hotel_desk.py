"""The integrator's code under test: a tiny "hotel desk" built on Nexa's ports.

It only talks to ports (hotel providers, the operational store, a clock, an id
generator), so its tests can use the in-memory fakes Nexa ships instead of partners and
databases.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from nexa_core.errors import ProviderError
from nexa_core.model import Actor, AuditEntry, HotelOffer, ManualReviewItem, ReviewCategory
from nexa_core.ports import Clock, HotelProvider, HotelSearch, IdGenerator
from nexa_core.tenancy import TenantContext
from nexa_core.urn import Urn

DESK = Actor(Urn("user", "hotel-desk"), "SYSTEM")


async def cheapest_offer(
    providers: Sequence[HotelProvider], request: HotelSearch
) -> tuple[HotelOffer | None, list[str]]:
    """The cheapest offer with enough rooms across providers, and the providers that failed.

    A provider that fails (transient or permanent) is skipped; the others still answer.
    """
    best: HotelOffer | None = None
    failed: list[str] = []
    for provider in providers:
        try:
            offers = await provider.search(request)
        except ProviderError:
            failed.append(provider.name)
            continue
        for offer in offers:
            rate = offer.cheapest_rate()
            if rate is None or offer.total_rooms < request.rooms:
                continue
            if best is None or rate.amount < best.cheapest_rate().amount:  # type: ignore[union-attr]
                best = offer
    return best, failed


async def place_case(
    *,
    store: Any,
    tenant: TenantContext,
    case_urn: Urn,
    providers: Sequence[HotelProvider],
    request: HotelSearch,
    clock: Clock,
    ids: IdGenerator,
) -> HotelOffer | None:
    """Pick a hotel for a case and record the decision (audit) or a review item if none."""
    offer, failed = await cheapest_offer(providers, request)
    async with store.transaction() as tx:
        if offer is None:
            await tx.reviews.add(
                tenant,
                ManualReviewItem(
                    urn=ids.new("review"),
                    airline_urn=tenant.airline_urn,
                    case_urn=case_urn,
                    category=ReviewCategory.ALLOCATION_FAILED,
                    reason=f"no hotel offer; providers failing: {', '.join(failed) or 'none'}",
                    created_at=clock.now(),
                ),
            )
            return None
        await tx.audit.append(
            tenant,
            AuditEntry(
                urn=ids.new("audit"),
                airline_urn=tenant.airline_urn,
                actor=DESK,
                action="hotel.chosen",
                entity_urn=case_urn,
                reason="cheapest offer with enough rooms",
                at=clock.now(),
                after={"hotel": str(offer.hotel_urn), "skipped": failed},
            ),
        )
    return offer


class _CountedPort:
    """Forwards every call to the wrapped port and counts it."""

    def __init__(self, inner: Any, table: str, calls: Counter[str]) -> None:
        self._inner = inner
        self._table = table
        self._calls = calls

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        if name.startswith("_") or not callable(attr):
            return attr

        @functools.wraps(attr)  # keeps the port's signature visible to introspection
        async def counted(*args: Any, **kwargs: Any) -> Any:
            self._calls[f"{self._table}.{name}"] += 1
            return await attr(*args, **kwargs)

        return counted

    def __dir__(self) -> list[str]:
        return sorted(set(dir(self._inner)) | set(super().__dir__()))


class CountingStore:
    """The integrator's own store wrapper: any OperationalStore, with call counts (metrics).

    Because it wraps a store port, it must still honour the port's whole contract —
    ``tests/test_counting_store_contract.py`` proves it with Nexa's shipped contract suite.
    """

    PORTS = frozenset(
        {
            "cases",
            "sub_cases",
            "policies",
            "demands",
            "waves",
            "reservations",
            "contracts",
            "cards",
            "transfers",
            "notifications",
            "reviews",
            "dead_letters",
            "card_accounts",
            "audit",
            "idempotency",
            "outbox",
        }
    )

    def __init__(self, inner: Any, calls: Counter[str] | None = None) -> None:
        self._inner = inner
        self.calls: Counter[str] = calls if calls is not None else Counter()

    def __getattr__(self, name: str) -> Any:
        if name in self.PORTS:
            return _CountedPort(getattr(self._inner, name), name, self.calls)
        raise AttributeError(name)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[CountingStore]:
        async with self._inner.transaction() as tx:
            yield CountingStore(tx, self.calls)

    async def close(self) -> None:
        await self._inner.close()
