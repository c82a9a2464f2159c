"""Case flow through CaseOrchestrator on the memory store and the in-process engine."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import attrs
import pytest

from nexa_adapters.documents import Manifest, parse_manifest
from nexa_adapters.engine.inprocess import InProcessEngine
from nexa_adapters.inprocess.coordination import InProcessCoordination
from nexa_adapters.memory import MemoryStore
from nexa_adapters.memory.snapshots import MemorySnapshotStore
from nexa_adapters.sandbox import (
    SandboxBooking,
    SandboxHotels,
    SandboxMessages,
    SandboxPayments,
    SandboxTransport,
    airport,
)
from nexa_core.auth import Principal, PrincipalKind, Role
from nexa_core.errors import InvalidInputError, PermissionDeniedError
from nexa_core.model import (
    CaseStatus,
    DemandStatus,
    DispatchMode,
    PaymentMode,
    SubCaseStatus,
    Tier,
)
from nexa_core.policy import DemandGates, MealRules, Policy, PolicyContext, TransportRules
from nexa_core.runtime import SequentialIds, SystemClock
from nexa_core.saga import SagaDeps, SubCaseSagas
from nexa_core.services import CaseOrchestrator
from nexa_core.tenancy import TenantContext
from nexa_core.urn import Urn, VendorRegistry

LAN = Urn("airline", "LAN")
TENANT = TenantContext.system(LAN)
T0 = datetime(2026, 5, 5, 20, 0, tzinfo=UTC)


def _principal(role: Role) -> Principal:
    return Principal(
        PrincipalKind.OPERATOR, Urn("user", f"u-{role.value.lower()}"), LAN, frozenset({role})
    )


OPERATOR = _principal(Role.AIRPORT_OPERATOR)
SUPERVISOR = _principal(Role.OPS_SUPERVISOR)


def _policy(auto: bool = True, max_rooms: int = 50) -> Policy:
    return Policy(
        name="default",
        context=PolicyContext(airline="LAN"),
        tiers=frozenset(Tier),
        demand=DemandGates(auto_approve_demand=auto, max_automatic_rooms_per_wave=max_rooms),
        accepted_payments=frozenset({PaymentMode.GUARANTEE}),
        meals=MealRules(allowance={Tier.ECONOMY: Decimal("20")}),
        transport=TransportRules(dispatch={Tier.ECONOMY: DispatchMode.AUTOMATIC}),
    )


def _manifest(event: str = "EV-1", groups: int = 3) -> Manifest:
    return parse_manifest(
        {
            "airline": "urn:airline:LAN",
            "external_event_id": event,
            "airport": "SCL",
            "flight": {
                "urn": "urn:flight:LA500@20260505",
                "destination": "EZE",
                "scheduled_departure": "2026-05-05T18:00:00-04:00",
            },
            "disrupted_at": "2026-05-05T17:00:00-04:00",
            "next_departure": "2026-05-06T10:00:00-04:00",
            "groups": [
                {
                    "group_id": f"G{i}",
                    "pnr": f"urn:pnr:PNR{i:03d}:vendor:amadeus",
                    "passengers": [
                        {
                            "urn": f"urn:passenger:p-{i}:vendor:latam",
                            "name": f"Pax {i}",
                            "email": f"p{i}@example.com",
                            "cabin": "ECONOMY",
                        }
                    ],
                }
                for i in range(groups)
            ],
        }
    )


@attrs.define
class Flow:
    orch: CaseOrchestrator
    store: MemoryStore
    booking: SandboxBooking


def _flow(policy: Policy) -> Flow:
    store = MemoryStore()
    coordination = InProcessCoordination()
    booking = SandboxBooking("sandbox")
    engine = InProcessEngine(time_scale=0.0)
    deps = SagaDeps(
        store=store,
        coordination=coordination,
        booking=VendorRegistry({"sandbox": booking}),
        payments=SandboxPayments(),
        transport={"sandbox": SandboxTransport()},
        notifications={"sandbox": SandboxMessages()},
        clock=SystemClock(),
        ids=SequentialIds(),
        snapshots=MemorySnapshotStore(),
    )
    for p in SubCaseSagas(deps).programs():
        engine.register(p)
    orch = CaseOrchestrator(
        store=store,
        engine=engine,
        clock=SystemClock(),
        ids=SequentialIds(1000),
        airports=airport,
        hotel_providers={"sandbox": SandboxHotels("sandbox", hotels=12)},
        coordination=coordination,
        policy=policy,
    )
    return Flow(orch, store, booking)


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
    results = await flow.orch.wait(ids)
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
    from nexa_core.errors import ConflictError

    with pytest.raises(ConflictError):
        await flow.orch.run_allocation(opened.case.urn, principal=OPERATOR)


@pytest.mark.anyio
async def test_decline_rolls_back_and_incremental_demand_keeps_existing_bookings() -> None:
    flow = _flow(_policy())
    opened = await flow.orch.open_case(_manifest(groups=2), principal=OPERATOR)
    outcome = await flow.orch.run_allocation(opened.case.urn, principal=OPERATOR)
    await flow.orch.wait(
        await flow.orch.book_sub_cases(opened.case.urn, outcome.wave.urn, principal=OPERATOR)
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
        await flow.orch.book_sub_cases(opened.case.urn, second.wave.urn, principal=OPERATOR)
    )
    after = await flow.store.sub_cases.get(TENANT, kept.urn)
    assert after == before  # untouched
    assert (
        await flow.store.sub_cases.get(TENANT, declined.urn)
    ).status is SubCaseStatus.OFFER_READY
