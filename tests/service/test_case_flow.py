"""Case flow through CaseOrchestrator on the memory store and the in-process engine."""

from __future__ import annotations

import pytest

from nexa_core.errors import ConflictError, InvalidInputError, PermissionDeniedError
from nexa_core.model import CaseStatus, DemandStatus, SubCaseStatus
from tests.service.flow import OPERATOR, SUPERVISOR, TENANT, _flow, _manifest, _policy


@pytest.mark.anyio
async def test_opening_a_case_groups_by_pnr_and_a_replay_returns_the_same_case() -> None:
    flow = _flow(_policy())
    opened = await flow.orch.open_case(_manifest(), principal=OPERATOR)
    assert not opened.replayed
    assert len(opened.sub_cases) == 3
    assert all(s.stay_plan is not None and s.stay_plan.nights == 1 for s in opened.sub_cases)
    again = await flow.orch.open_case(_manifest(), principal=OPERATOR)
    assert again.replayed and again.case.urn == opened.case.urn
    assert len(await flow.store.cases.find(TENANT)) == 1
    events = [r.event for r in await flow.store.outbox.read_after(0, limit=100)]
    assert [e.type for e in events].count("case.created") == 1
    assert all(e.correlation_urn == opened.case.correlation_urn for e in events)


@pytest.mark.anyio
async def test_small_demand_is_auto_approved_and_the_case_books_end_to_end() -> None:
    flow = _flow(_policy())
    opened = await flow.orch.open_case(_manifest(), principal=OPERATOR)
    assert opened.demand is not None and opened.demand.status is DemandStatus.APPROVED
    outcome = await flow.orch.run_allocation(opened.case.urn, principal=OPERATOR)
    assert len(outcome.assigned) == 3 and not outcome.unassigned
    ids = await flow.orch.book_sub_cases(opened.case.urn, outcome.wave.urn, principal=OPERATOR)
    results = await flow.orch.wait(ids, principal=OPERATOR)
    assert all(r.completed for r in results)
    case = await flow.orch.settle(opened.case.urn, principal=OPERATOR)
    assert case.status is CaseStatus.CONFIRMED
    subs = await flow.store.sub_cases.find(TENANT, case_urn=opened.case.urn)
    assert {s.status for s in subs} == {SubCaseStatus.OFFER_READY}
    assert len(flow.booking.bookings) == 3
    accepted = await flow.orch.accept(subs[0].urn, principal=OPERATOR)
    assert accepted.status is SubCaseStatus.RESOLVED


@pytest.mark.anyio
async def test_demand_above_the_automatic_limit_waits_for_a_supervisor() -> None:
    flow = _flow(_policy(auto=True, max_rooms=2))
    opened = await flow.orch.open_case(_manifest(groups=3), principal=OPERATOR)
    assert opened.demand is not None and opened.demand.status is DemandStatus.REQUESTED
    with pytest.raises(PermissionDeniedError):
        await flow.orch.approve_demand(opened.demand.urn, principal=OPERATOR, reason="ok")
    with pytest.raises(InvalidInputError):
        await flow.orch.approve_demand(opened.demand.urn, principal=SUPERVISOR, reason=" ")
    approved = await flow.orch.approve_demand(
        opened.demand.urn, principal=SUPERVISOR, reason="storm"
    )
    assert approved.status is DemandStatus.APPROVED and approved.decided_by == SUPERVISOR.subject


@pytest.mark.anyio
async def test_a_rejected_demand_records_the_reason_and_blocks_allocation() -> None:
    flow = _flow(_policy(auto=False))
    opened = await flow.orch.open_case(_manifest(), principal=OPERATOR)
    assert opened.demand is not None
    rejected = await flow.orch.reject_demand(
        opened.demand.urn, principal=SUPERVISOR, reason="duplicate"
    )
    assert rejected.status is DemandStatus.REJECTED and rejected.reason == "duplicate"
    with pytest.raises(ConflictError):
        await flow.orch.run_allocation(opened.case.urn, principal=OPERATOR)


@pytest.mark.anyio
async def test_decline_rolls_back_and_incremental_demand_keeps_existing_bookings() -> None:
    flow = _flow(_policy())
    opened = await flow.orch.open_case(_manifest(groups=2), principal=OPERATOR)
    outcome = await flow.orch.run_allocation(opened.case.urn, principal=OPERATOR)
    await flow.orch.wait(
        await flow.orch.book_sub_cases(opened.case.urn, outcome.wave.urn, principal=OPERATOR),
        principal=OPERATOR,
    )
    await flow.orch.settle(opened.case.urn, principal=OPERATOR)
    subs = await flow.store.sub_cases.find(TENANT, case_urn=opened.case.urn)
    kept, declined = subs
    rollback = await flow.orch.decline(declined.urn, principal=OPERATOR)
    assert rollback.completed
    assert (await flow.store.sub_cases.get(TENANT, declined.urn)).status is SubCaseStatus.PENDING
    demand = await flow.orch.request_demand(
        opened.case.urn, 1, principal=OPERATOR, reason="declined pax"
    )
    assert demand.status is DemandStatus.REQUESTED  # incremental demand needs a supervisor
    await flow.orch.approve_demand(demand.urn, principal=SUPERVISOR, reason="rebook")
    second = await flow.orch.run_allocation(opened.case.urn, principal=OPERATOR)
    assert set(second.assigned) == {declined.group.group_id}
    before = await flow.store.sub_cases.get(TENANT, kept.urn)
    await flow.orch.wait(
        await flow.orch.book_sub_cases(opened.case.urn, second.wave.urn, principal=OPERATOR),
        principal=OPERATOR,
    )
    after = await flow.store.sub_cases.get(TENANT, kept.urn)
    assert after == before  # untouched
    assert (
        await flow.store.sub_cases.get(TENANT, declined.urn)
    ).status is SubCaseStatus.OFFER_READY
