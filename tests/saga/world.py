"""A small world for saga tests: memory store, fake coordination, sandbox partners."""

from __future__ import annotations

from datetime import date
from typing import Any

import attrs

from nexa_adapters.inprocess.coordination import InProcessCoordination
from nexa_adapters.memory import MemoryStore
from nexa_adapters.memory.snapshots import MemorySnapshotStore
from nexa_adapters.render import JinjaRenderer
from nexa_adapters.sandbox import (
    FaultInjector,
    SandboxBooking,
    SandboxHotels,
    SandboxMessages,
    SandboxPayments,
    SandboxTransport,
)
from nexa_adapters.sandbox.inventory import airport
from nexa_core.care import CareLinks
from nexa_core.model import (
    CaseStatus,
    Channel,
    DispatchMode,
    HotelOffer,
    PaymentMode,
    RoomType,
    SubCase,
)
from nexa_core.ports import HotelSearch
from nexa_core.runtime import SequentialIds, SystemClock
from nexa_core.saga import CareInstructions, SagaDeps, SubCaseSagas, booking_input
from nexa_core.tenancy import TenantContext
from nexa_core.testing import make_case, make_group, make_sub_case
from nexa_core.urn import Urn, VendorRegistry

LAN = TenantContext.system("urn:airline:LAN")
WAVE = Urn("wave", "w-1")


@attrs.define
class World:
    store: MemoryStore
    coordination: InProcessCoordination
    booking_faults: FaultInjector
    booking: SandboxBooking
    backup: SandboxBooking
    payments: SandboxPayments
    transport: SandboxTransport
    messages: SandboxMessages
    snapshots: MemorySnapshotStore
    sagas: SubCaseSagas
    offers: list[HotelOffer]

    async def sub_case(
        self, n: int = 1, *, case_status: CaseStatus = CaseStatus.BOOKING
    ) -> SubCase:
        case = make_case("c-1")
        try:
            await self.store.cases.get(LAN, case.urn)
        except Exception:
            added = await self.store.cases.add(LAN, case)
            for s in (CaseStatus.ALLOCATING, CaseStatus.BOOKING):
                if s == case_status or added.status != case_status:
                    added = await self.store.cases.update(LAN, added.transition(s))
                if added.status == case_status:
                    break
        sub = make_sub_case(f"sc-{n}", case=case, group=make_group(f"G{n}", pnr=f"PNR{n:03d}"))
        return await self.store.sub_cases.add(LAN, sub)

    def live_holds(self) -> int:
        """Rooms soft-held and neither confirmed nor released (leak check)."""
        offers = self.coordination.holds._offers.values()
        return sum(h.rooms for o in offers for h in o.held.values())

    def input(
        self, sub: SubCase, *, offers: list[HotelOffer] | None = None, **care: Any
    ) -> dict[str, Any]:
        care.setdefault("payment", PaymentMode.GUARANTEE)
        return booking_input(
            sub,
            wave_urn=WAVE,
            candidates=offers or self.offers[:4],
            rooms=(RoomType.DBL,),
            care=CareInstructions(**care),
        )


async def make_world(*, transient: float = 0.0, seed: int = 7) -> World:
    faults = FaultInjector(transient_rate=transient, seed=seed)
    booking = SandboxBooking("sandbox", faults=faults)
    backup = SandboxBooking("backup")
    hotels = SandboxHotels("sandbox", seed=seed, hotels=12)
    offers = list(
        await hotels.search(
            HotelSearch(LAN.airline_urn, airport("SCL"), date(2026, 5, 5), date(2026, 5, 6), 1)
        )
    )
    offers = [o for o in offers if PaymentMode.GUARANTEE in o.accepted_payments]
    assert len(offers) >= 4
    store = MemoryStore()
    coordination = InProcessCoordination()
    payments = SandboxPayments()
    transport = SandboxTransport()
    messages = SandboxMessages()
    snapshots = MemorySnapshotStore()
    deps = SagaDeps(
        store=store,
        coordination=coordination,
        booking=VendorRegistry({"sandbox": booking, "backup": backup}),
        payments=payments,
        transport={"sandbox": transport},
        notifications={"sandbox": messages},
        clock=SystemClock(),
        ids=SequentialIds(),
        snapshots=snapshots,
        renderer=JinjaRenderer(),
        links=CareLinks(passenger_url="https://pax.example/{airline}/{sub_case}"),
    )
    return World(
        store,
        coordination,
        faults,
        booking,
        backup,
        payments,
        transport,
        messages,
        snapshots,
        SubCaseSagas(deps),
        offers,
    )


__all__ = ["LAN", "WAVE", "Channel", "DispatchMode", "World", "make_world"]
