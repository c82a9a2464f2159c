"""Testing integrator code with Nexa's shipped fakes — no partner, no database, no sleeps."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hotel_desk import CountingStore, cheapest_offer, place_case

from nexa_adapters.sandbox import FaultInjector, SandboxHotels, airport
from nexa_core.ports import AuditQuery, HotelSearch
from nexa_core.runtime import FixedClock, SequentialIds
from nexa_core.tenancy import TenantContext
from nexa_core.testing import make_case
from nexa_core.urn import Urn

pytestmark = pytest.mark.anyio

LAN = TenantContext.system("urn:airline:LAN")
SEARCH = HotelSearch(
    Urn("airline", "LAN"), airport("SCL"), date(2026, 5, 5), date(2026, 5, 6), rooms=3
)


def hotels(name: str, **faults: float) -> SandboxHotels:
    """A sandbox hotel provider; ``transient_rate=1.0`` makes every call fail with a 503."""
    return SandboxHotels(name, seed=7, hotels=8, faults=FaultInjector(**faults))


async def test_a_failing_provider_is_skipped_and_the_other_answers() -> None:
    down, up = hotels("down", transient_rate=1.0), hotels("up")
    offer, failed = await cheapest_offer([down, up], SEARCH)
    assert failed == ["down"]
    assert offer is not None and offer.vendor == "up"
    assert down.searches == 1 and up.searches == 1  # the fake counts its calls


async def test_the_cheapest_offer_with_enough_rooms_wins() -> None:
    offers = await hotels("up").search(SEARCH)
    offer, _ = await cheapest_offer([hotels("up")], SEARCH)
    rates = [o.cheapest_rate() for o in offers if o.total_rooms >= SEARCH.rooms]
    assert offer is not None
    assert offer.cheapest_rate().amount == min(r.amount for r in rates if r is not None)


async def test_the_choice_is_audited_at_the_fixed_time_with_predictable_ids(
    store, clock: FixedClock, ids: SequentialIds
) -> None:
    case = make_case("c-1")
    await store.cases.add(LAN, case)
    clock.advance(timedelta(minutes=5))
    offer = await place_case(
        store=store,
        tenant=LAN,
        case_urn=case.urn,
        providers=[hotels("up")],
        request=SEARCH,
        clock=clock,
        ids=ids,
    )
    (entry,) = await store.audit.query(LAN, AuditQuery(entity_urn=case.urn))
    assert entry.urn == Urn("audit", "a-000001")
    assert entry.at == clock.now()
    assert entry.after == {"hotel": str(offer.hotel_urn), "skipped": []}


async def test_no_offer_opens_an_allocation_review_and_writes_no_audit(
    store, clock: FixedClock, ids: SequentialIds
) -> None:
    case = make_case("c-1")
    await store.cases.add(LAN, case)
    offer = await place_case(
        store=store,
        tenant=LAN,
        case_urn=case.urn,
        providers=[hotels("a", transient_rate=1.0), hotels("b", permanent_rate=1.0)],
        request=SEARCH,
        clock=clock,
        ids=ids,
    )
    assert offer is None
    (review,) = await store.reviews.find(LAN, case_urn=case.urn)
    assert review.category.value == "ALLOCATION_FAILED" and "a, b" in review.reason
    assert await store.audit.query(LAN, AuditQuery()) == []


async def test_other_tenants_never_see_the_records(store, clock, ids) -> None:
    case = make_case("c-1")
    await store.cases.add(LAN, case)
    await place_case(
        store=store,
        tenant=LAN,
        case_urn=case.urn,
        providers=[hotels("up")],
        request=SEARCH,
        clock=clock,
        ids=ids,
    )
    tam = TenantContext.system("urn:airline:TAM")
    assert await store.audit.query(tam, AuditQuery()) == []


async def test_the_counting_wrapper_counts_writes_inside_transactions(store, clock, ids) -> None:
    counting = CountingStore(store)
    case = make_case("c-1")
    await counting.cases.add(LAN, case)
    await place_case(
        store=counting,
        tenant=LAN,
        case_urn=case.urn,
        providers=[hotels("up")],
        request=SEARCH,
        clock=clock,
        ids=ids,
    )
    assert counting.calls == {"cases.add": 1, "audit.append": 1}
