from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

import anyio
import pytest

from nexa_core.errors import InvalidInputError, ProviderUnavailableError
from nexa_core.hotels import HotelSearchService, ProviderOutcome, SearchStrategy
from nexa_core.model import HotelOffer, RoomType
from nexa_core.model.case import Airport
from nexa_core.ports import HotelSearch
from nexa_core.runtime import FixedClock
from nexa_core.tenancy import TenantContext
from nexa_core.urn import Urn

from ..allocation.helpers import offer

AIRLINE = Urn("airline", "LAN")
TENANT = TenantContext(AIRLINE)
SCL = Airport(Urn("airport", "SCL"), "Santiago", -33.393, -70.785, "America/Santiago", "CL")
REQ = HotelSearch(AIRLINE, SCL, date(2026, 5, 5), date(2026, 5, 6), 10)


class Provider:
    def __init__(
        self, name: str, offers: list[HotelOffer], *, delay: float = 0.0, fail: bool = False
    ) -> None:
        self.name = name
        self.offers = offers
        self.delay = delay
        self.fail = fail
        self.calls = 0

    async def search(self, request: HotelSearch) -> Sequence[HotelOffer]:
        self.calls += 1
        if self.delay:
            await anyio.sleep(self.delay)
        if self.fail:
            raise ProviderUnavailableError("down", vendor=self.name)
        return self.offers


def _o(hid: str, vendor: str, rate: str = "90", km: float = 5.0) -> HotelOffer:
    return offer(hid, [(RoomType.DBL, 5, rate)], vendor=vendor, km=km)


@pytest.mark.anyio
async def test_merge_all_drops_late_providers_and_keeps_partial_results() -> None:
    fast = Provider("fast", [_o("A", "fast")])
    slow = Provider("slow", [_o("B", "slow", km=9)], delay=5)
    svc = HotelSearchService([fast, slow], FixedClock(), timeout_s=0.2)
    with anyio.fail_after(3):
        result = await svc.search(TENANT, REQ)
    assert [o.hotel_urn.id for o in result.offers] == ["A"]
    outcome = {r.provider: r.outcome for r in result.reports}
    assert outcome == {"fast": ProviderOutcome.OK, "slow": ProviderOutcome.LATE}
    assert result.partial


@pytest.mark.anyio
async def test_merge_all_reports_failed_providers_and_merges_the_rest() -> None:
    a = Provider("a", [_o("A", "a")])
    b = Provider("b", [_o("B", "b", km=9)])
    bad = Provider("bad", [], fail=True)
    result = await HotelSearchService([a, bad, b], FixedClock()).search(TENANT, REQ)
    assert sorted(o.hotel_urn.id for o in result.offers) == ["A", "B"]
    failed = [r for r in result.reports if r.outcome is ProviderOutcome.FAILED]
    assert [r.provider for r in failed] == ["bad"]
    assert failed[0].error is not None and "down" in failed[0].error


@pytest.mark.anyio
async def test_merge_all_deduplicates_across_providers() -> None:
    a = Provider("a", [_o("A", "a", rate="95")])
    b = Provider("b", [_o("A", "b", rate="90")])  # same place and stars, cheaper
    result = await HotelSearchService([a, b], FixedClock()).search(TENANT, REQ)
    assert [o.vendor for o in result.offers] == ["b"]
    assert result.duplicates_dropped == 1


@pytest.mark.anyio
async def test_first_success_stops_at_the_first_non_empty_provider() -> None:
    empty = Provider("empty", [])
    good = Provider("good", [_o("A", "good")])
    never = Provider("never", [_o("B", "never")])
    svc = HotelSearchService([empty, good, never], FixedClock(), strategy="first-success")
    result = await svc.search(TENANT, REQ)
    assert [o.hotel_urn.id for o in result.offers] == ["A"]
    assert [r.outcome for r in result.reports] == [
        ProviderOutcome.EMPTY,
        ProviderOutcome.OK,
        ProviderOutcome.SKIPPED,
    ]
    assert never.calls == 0
    assert result.strategy is SearchStrategy.FIRST_SUCCESS


@pytest.mark.anyio
async def test_first_success_moves_on_from_a_late_provider() -> None:
    slow = Provider("slow", [_o("A", "slow")], delay=5)
    good = Provider("good", [_o("B", "good")])
    svc = HotelSearchService([slow, good], FixedClock(), timeout_s=0.2, strategy="first-success")
    with anyio.fail_after(3):
        result = await svc.search(TENANT, REQ)
    # the time box is shared: the slow provider used it up
    assert result.reports[0].outcome is ProviderOutcome.LATE
    assert result.offers == ()


@pytest.mark.anyio
async def test_results_are_cached_per_tenant_and_stamped_with_freshness() -> None:
    clock = FixedClock()
    p = Provider("p", [_o("A", "p")])
    svc = HotelSearchService([p], clock, cache_ttl=timedelta(minutes=5))
    first = await svc.search(TENANT, REQ)
    assert all(o.fetched_at == clock.now() for o in first.offers)
    clock.advance(timedelta(minutes=4))
    again = await svc.search(TENANT, REQ)
    assert again.cached and p.calls == 1
    assert again.offers[0].fetched_at == first.fetched_at
    other = TenantContext(Urn("airline", "IBE"))
    await svc.search(other, HotelSearch(other.airline_urn, SCL, REQ.check_in, REQ.check_out, 10))
    assert p.calls == 2  # another tenant never sees this tenant's cache
    clock.advance(timedelta(minutes=2))
    fresh = await svc.search(TENANT, REQ)
    assert not fresh.cached and p.calls == 3
    assert fresh.offers[0].fetched_at == clock.now()


@pytest.mark.anyio
async def test_search_rejects_bad_requests() -> None:
    svc = HotelSearchService([Provider("p", [])], FixedClock())
    with pytest.raises(InvalidInputError):
        await svc.search(TenantContext(Urn("airline", "IBE")), REQ)
    with pytest.raises(InvalidInputError):
        await svc.search(TENANT, HotelSearch(AIRLINE, SCL, REQ.check_in, REQ.check_in, 1))
    with pytest.raises(InvalidInputError):
        HotelSearchService([Provider("p", []), Provider("p", [])], FixedClock())
