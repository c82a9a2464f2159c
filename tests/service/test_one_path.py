"""The case flow runs the real capabilities: the search service, stored policy versions and
the plan validator (no inline copies)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date
from decimal import Decimal

import attrs
import pytest

from nexa_adapters.bootstrap import bootstrap
from nexa_adapters.engine import build_orchestrator
from nexa_adapters.reporting import build_case_report, render_case_report_html
from nexa_adapters.sandbox import FaultInjector, SandboxHotels
from nexa_adapters.settings import Settings
from nexa_core.allocation import AllocationProblem, Placement, SolverResult
from nexa_core.errors import NoPolicyMatchError
from nexa_core.model import (
    Contract,
    ContractRate,
    HotelOffer,
    PolicyState,
    ReviewCategory,
    SubCaseStatus,
    Tier,
)
from nexa_core.ports import HotelSearch
from nexa_core.urn import Urn
from tests.service.flow import LAN, OPERATOR, TENANT, _flow, _manifest, _policy

pytestmark = pytest.mark.anyio


class Mirror:
    """A second provider selling the same hotels as ``inner`` under its own vendor."""

    def __init__(self, name: str, inner: SandboxHotels) -> None:
        self.name = name
        self.inner = inner

    async def search(self, request: HotelSearch) -> Sequence[HotelOffer]:
        return [
            attrs.evolve(
                o,
                urn=Urn("offer", f"{self.name}-{o.urn.id}"),
                hotel_urn=Urn("hotel", o.hotel_urn.id, self.name),
                rooms=tuple(attrs.evolve(r, nightly_rate=r.nightly_rate + 5) for r in o.rooms),
            )
            for o in await self.inner.search(request)
        ]


def _outcomes(search: object) -> dict[str, str]:
    assert isinstance(search, dict)
    return {p["provider"]: p["outcome"] for p in search["providers"]}


async def test_allocation_searches_inside_the_time_box_and_records_every_providers_outcome() -> (
    None
):
    flow = _flow(_policy())
    fast = SandboxHotels("sandbox", hotels=12)
    providers = {
        "sandbox": fast,
        "slow": SandboxHotels("slow", hotels=12, faults=FaultInjector(latency_s=30)),
        "broken": SandboxHotels("broken", faults=FaultInjector(transient_rate=1.0)),
    }
    orch = attrs.evolve(flow.orch, hotel_providers=providers, search_timeout_s=0.3)
    opened = await orch.open_case(_manifest(groups=2), principal=OPERATOR)
    outcome = await orch.run_allocation(opened.case.urn, principal=OPERATOR)
    assert _outcomes(outcome.search) == {
        "sandbox": "answered",
        "slow": "timed-out",
        "broken": "failed",
    }
    assert outcome.search is not None and outcome.search["time_box_s"] == 0.3
    kept = {p["provider"]: p["kept"] for p in outcome.search["providers"]}
    assert kept == {"sandbox": 12, "slow": 0, "broken": 0}
    assert len(outcome.assigned) == 2  # the answering provider's offers were enough
    assert all(o.vendor == "sandbox" for offers in outcome.assigned.values() for o in offers)
    wave = await flow.store.waves.get(TENANT, outcome.wave.urn)
    assert wave.plan["search"] == outcome.search  # the report and the demo read it back
    report = await build_case_report(flow.store, TENANT, opened.case.urn)
    rows = {(p.provider, p.outcome, p.kept) for w in report.waves for p in w.search}
    assert rows == {("sandbox", "answered", 12), ("slow", "timed-out", 0), ("broken", "failed", 0)}
    html = render_case_report_html(report)
    assert 'id="search-providers"' in html and "timed-out" in html
    assert report.policy is not None and report.policy.state == "AD_HOC"


async def test_the_same_hotel_from_two_providers_is_kept_once_the_cheaper_one() -> None:
    flow = _flow(_policy())
    inner = SandboxHotels("sandbox", hotels=8)
    orch = attrs.evolve(
        flow.orch, hotel_providers={"sandbox": inner, "mirror": Mirror("mirror", inner)}
    )
    opened = await orch.open_case(_manifest(groups=1), principal=OPERATOR)
    outcome = await orch.run_allocation(opened.case.urn, principal=OPERATOR)
    assert outcome.search is not None
    assert outcome.search["duplicates_dropped"] == 8 and outcome.search["offers"] == 8
    kept = {p["provider"]: (p["offers"], p["kept"]) for p in outcome.search["providers"]}
    assert kept == {"sandbox": (8, 8), "mirror": (8, 0)}  # the mirror is 5 more per night


async def test_bootstrapped_search_merges_the_tenants_direct_contracts_and_books_them() -> None:
    settings = Settings.load(
        env={}, store_url="memory://", coordination_url="inprocess://", engine_url="inprocess://"
    )
    nexa = bootstrap(settings, provider_options={"engine_time_scale": 0.0})
    contract = Contract(
        urn=Urn("contract", "ct-scl"),
        airline_urn=LAN,
        hotel_name="Andes Contract",
        address="Av 1",
        latitude=-33.40,
        longitude=-70.78,
        stars=4,
        currency="USD",
        rates=(ContractRate(date(2026, 5, 1), date(2026, 5, 31), Decimal("40"), 10, "DBL"),),
        airports=frozenset({Urn("airport", "SCL")}),
        market_rate=Decimal("110"),
    )
    await nexa.store.contracts.add(TENANT, contract)
    orch, _ = build_orchestrator(nexa, policy=_policy())
    await nexa.engine.launch()
    opened = await orch.open_case(_manifest(groups=2), principal=OPERATOR)
    outcome = await orch.run_allocation(opened.case.urn, principal=OPERATOR)
    assert _outcomes(outcome.search) == {"direct": "answered", "sandbox": "answered"}
    primaries = {offers[0].vendor for offers in outcome.assigned.values()}
    assert primaries == {"direct"}  # the cheap contract rate wins
    ids = await orch.book_sub_cases(opened.case.urn, outcome.wave.urn, principal=OPERATOR)
    assert all(r.completed for r in await orch.wait(ids, principal=OPERATOR))
    booked = await nexa.store.contracts.get(TENANT, contract.urn)
    assert booked.rooms_booked == 2
    await nexa.aclose()


# --------------------------------------------------------------------------- policies


async def test_a_new_case_records_the_active_version_and_keeps_it_after_a_new_activation() -> None:
    flow = _flow(_policy())
    orch = attrs.evolve(flow.orch, policy=None)
    versions = orch.versions
    v1 = await versions.create_draft(TENANT, _policy(max_rooms=50), reason="first")
    await versions.activate(TENANT, v1.urn, reason="go")
    first = await orch.open_case(_manifest("EV-1"), principal=OPERATOR)
    assert first.case.policy_urn == v1.urn
    v2 = await versions.create_draft(TENANT, _policy(max_rooms=1), reason="tighter gate")
    await versions.activate(TENANT, v2.urn, reason="storm season")
    second = await orch.open_case(_manifest("EV-2"), principal=OPERATOR)
    assert second.case.policy_urn == v2.urn
    assert second.demand is not None and second.demand.status.value == "REQUESTED"
    # the first case still runs under v1 (its demand gate allows 50 rooms)
    incremental = await orch.request_demand(first.case.urn, 3, principal=OPERATOR)
    stored = await flow.store.cases.get(TENANT, first.case.urn)
    assert stored.policy_urn == v1.urn and incremental.rooms_requested == 3


async def test_an_explicit_policy_file_is_recorded_once_as_an_ad_hoc_version() -> None:
    flow = _flow(_policy())
    a = await flow.orch.open_case(_manifest("EV-1"), principal=OPERATOR)
    b = await flow.orch.open_case(_manifest("EV-2"), principal=OPERATOR)
    assert a.case.policy_urn is not None and a.case.policy_urn == b.case.policy_urn
    record = await flow.store.policies.get(TENANT, a.case.policy_urn)
    assert record.state is PolicyState.AD_HOC and record.name == "default"
    # an ad-hoc version is never resolved for a case without an explicit file
    with pytest.raises(NoPolicyMatchError):
        await attrs.evolve(flow.orch, policy=None).open_case(_manifest("EV-3"), principal=OPERATOR)


async def test_a_case_whose_tiers_resolve_to_different_versions_is_refused() -> None:
    flow = _flow(_policy())
    orch = attrs.evolve(flow.orch, policy=None)
    economy = attrs.evolve(_policy(), name="economy at SCL", tiers=frozenset({Tier.ECONOMY}))
    economy = attrs.evolve(economy, context=attrs.evolve(economy.context, airport="SCL"))
    for p in (economy, _policy()):
        draft = await orch.versions.create_draft(TENANT, p, reason="x")
        await orch.versions.activate(TENANT, draft.urn, reason="x")
    manifest = _manifest()
    business = attrs.evolve(
        manifest.groups[0],
        passengers=tuple(
            attrs.evolve(p, cabin=Tier.BUSINESS) for p in manifest.groups[0].passengers
        ),
    )
    mixed = attrs.evolve(manifest, groups=(business, *manifest.groups[1:]))
    with pytest.raises(NoPolicyMatchError, match="different policy versions"):
        await orch.open_case(mixed, principal=OPERATOR)
    economy_only = await orch.open_case(manifest, principal=OPERATOR)  # only ECONOMY: SCL wins
    record = await flow.store.policies.get(TENANT, economy_only.case.policy_urn)
    assert record.name == "economy at SCL"


# --------------------------------------------------------------------------- plan validation


class EverythingInTheFirstHotel:
    """A buggy solver: every group into hotel 0, whatever its capacity or the tier gates."""

    name = "buggy"

    def solve(
        self, problem: AllocationProblem, *, time_limit_s: float | None = None
    ) -> SolverResult:
        hotel = problem.hotels[0]
        placements = tuple(
            Placement(t.index, hotel.index, tuple(hotel.classes[0] for _ in t.needs), t.count)
            for t in problem.types
        )
        return SolverResult(self.name, placements, coverage=1.0, cost=0.0)


async def test_an_invalid_plan_is_refused_nothing_is_booked_and_a_review_item_is_opened(
    caplog: pytest.LogCaptureFixture,
) -> None:
    flow = _flow(_policy())
    tiny = SandboxHotels("sandbox", hotels=3, rooms_scale=0.01)
    orch = attrs.evolve(
        flow.orch, hotel_providers={"sandbox": tiny}, solver=EverythingInTheFirstHotel()
    )
    opened = await orch.open_case(_manifest(groups=12), principal=OPERATOR)
    with caplog.at_level(logging.ERROR, logger="nexa.services.cases"):
        outcome = await orch.run_allocation(opened.case.urn, principal=OPERATOR)
    assert outcome.violations and not outcome.assigned
    assert {v.rule for v in outcome.violations} >= {"CAPACITY"}
    started = await orch.book_sub_cases(opened.case.urn, outcome.wave.urn, principal=OPERATOR)
    assert started == [] and flow.booking.bookings == {} and flow.booking.calls == 0
    reviews = await flow.store.reviews.find(TENANT, case_urn=opened.case.urn)
    assert [r.category for r in reviews] == [ReviewCategory.ALLOCATION_FAILED]
    assert "refused by the validator" in reviews[0].reason and "CAPACITY" in reviews[0].reason
    assert len(reviews[0].affected_groups) == 12
    subs = await flow.store.sub_cases.find(TENANT, case_urn=opened.case.urn)
    assert {s.status for s in subs} == {SubCaseStatus.MANUAL_REVIEW}
    refused = [r for r in caplog.records if "refused" in r.getMessage()]
    assert len(refused) == 1
    assert str(opened.case.correlation_urn) in refused[0].getMessage()
    assert refused[0].correlation_urn == str(opened.case.correlation_urn)  # type: ignore[attr-defined]
    wave = await flow.store.waves.get(TENANT, outcome.wave.urn)
    assert wave.plan["assigned"] == {} and wave.plan["violations"]
