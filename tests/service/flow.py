"""Helpers: a CaseOrchestrator on the memory store, in-process engine and sandbox."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import attrs

from nexa_adapters.documents import Manifest, parse_manifest
from nexa_adapters.engine.inprocess import InProcessEngine
from nexa_adapters.inprocess.coordination import InProcessCoordination
from nexa_adapters.memory import MemoryStore
from nexa_adapters.memory.snapshots import MemorySnapshotStore
from nexa_adapters.render import JinjaRenderer
from nexa_adapters.sandbox import (
    SandboxBooking,
    SandboxHotels,
    SandboxMessages,
    SandboxPayments,
    SandboxTransport,
    airport,
)
from nexa_core.auth import Principal, PrincipalKind, Role
from nexa_core.model import (
    DispatchMode,
    PaymentMode,
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
        renderer=JinjaRenderer(),
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


async def booked_case(flow: Flow, groups: int = 2) -> Any:
    """Open, allocate and book a case; returns the opened case."""
    opened = await flow.orch.open_case(_manifest(groups=groups), principal=OPERATOR)
    outcome = await flow.orch.run_allocation(opened.case.urn, principal=OPERATOR)
    await flow.orch.wait(
        await flow.orch.book_sub_cases(opened.case.urn, outcome.wave.urn, principal=OPERATOR),
        principal=OPERATOR,
    )
    return opened
