"""A case of airline LAN at SCL with reservations at two hotels, audit trail and a review."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import attrs
import pytest

from nexa_adapters.memory import MemoryStore
from nexa_core.model import (
    Actor,
    AllocationWave,
    AuditEntry,
    CaseStatus,
    ManualReviewItem,
    Money,
    Reservation,
    ReservationStatus,
    ReviewCategory,
    RoomType,
    SubCase,
    SubCaseStatus,
)
from nexa_core.runtime import FixedClock
from nexa_core.tenancy import TenantContext
from nexa_core.testing import make_case, make_group, make_passenger, make_sub_case
from nexa_core.urn import Urn

LAN = TenantContext.system("urn:airline:LAN")
TAM = TenantContext.system("urn:airline:TAM")
T0 = datetime(2026, 5, 5, 22, 0, tzinfo=UTC)
CASE_URN = Urn("case", "c-rep")


def _group(gid: str, size: int):  # type: ignore[no-untyped-def]
    pax = tuple(make_passenger(f"{gid.lower()}-{i}") for i in range(size))
    return make_group(gid, pnr=f"PNR{gid}", passengers=pax)


def _reservation(
    n: str,
    sub: SubCase,
    hotel: str,
    name: str,
    rooms: tuple[RoomType, ...],
    nights: int,
    amount: str,
    status: ReservationStatus,
    currency: str = "USD",
) -> Reservation:
    return Reservation(
        Urn("reservation", f"r-{n}"),
        LAN.airline_urn,
        CASE_URN,
        sub.urn,
        Urn("offer", f"of-{hotel}"),
        Urn("hotel", hotel, "sandbox"),
        name,
        date(2026, 5, 5),
        date(2026, 5, 5) + timedelta(days=nights),
        rooms,
        Money(Decimal(amount), currency),
        status=status,
    )


def _audit(n: int, entity: Urn, before: str | None, after: str, minutes: int) -> AuditEntry:
    return AuditEntry(
        urn=Urn("audit", f"a-{n}"),
        airline_urn=LAN.airline_urn,
        actor=Actor(Urn("user", "system"), "SYSTEM"),
        action=f"{entity.entity}.transition",
        entity_urn=entity,
        reason="pipeline",
        at=T0 + timedelta(minutes=minutes),
        before={"status": before} if before else {},
        after={"status": after},
    )


@attrs.frozen
class Fixture:
    store: Any
    case_urn: Urn
    other_tenant_case: Urn


async def build_populated(store: Any = None) -> Fixture:
    """Fill ``store`` (a fresh MemoryStore by default) with the case; usable from sync tests
    through ``anyio.run``."""
    if store is None:
        store = MemoryStore(clock=FixedClock(T0).now)
    case = attrs.evolve(make_case("c-rep"), urn=CASE_URN, status=CaseStatus.BOOKING, created_at=T0)
    await store.cases.add(LAN, case)
    subs = []
    layout = [
        ("G1", 2, SubCaseStatus.OFFER_READY),
        ("G2", 3, SubCaseStatus.OFFER_READY),
        ("G3", 1, SubCaseStatus.PROCESSING),
        ("G4", 4, SubCaseStatus.MANUAL_REVIEW),
    ]
    for i, (gid, size, status) in enumerate(layout, start=1):
        sub = attrs.evolve(
            make_sub_case(f"sc-{i}", case=case, group=_group(gid, size)), status=status
        )
        subs.append(await store.sub_cases.add(LAN, sub))
    g1, g2, g3, g4 = subs
    confirmed, pending = ReservationStatus.CONFIRMED, ReservationStatus.PENDING
    for r in [
        _reservation("1", g1, "H-A", "Hotel Andes", (RoomType.DBL,), 1, "120.00", confirmed),
        _reservation(
            "2", g2, "H-B", "Hotel Bellavista", (RoomType.DBL, RoomType.SGL), 2, "400.50", confirmed
        ),
        _reservation("3", g3, "H-A", "Hotel Andes", (RoomType.SGL,), 1, "80.25", pending),
        _reservation(
            "4",
            g4,
            "H-B",
            "Hotel Bellavista",
            (RoomType.QUAD,),
            1,
            "999.00",
            ReservationStatus.CANCELLED,
        ),
    ]:
        await store.reservations.add(LAN, r)
    await store.reviews.add(
        LAN,
        ManualReviewItem(
            Urn("review", "rv-1"),
            LAN.airline_urn,
            CASE_URN,
            ReviewCategory.BOOKING_FAILED,
            "every hotel refused g4-0@example.com",
            ("G4",),
        ),
    )
    await store.waves.add(
        LAN,
        AllocationWave(
            Urn("wave", "w-1"),
            LAN.airline_urn,
            CASE_URN,
            Urn("demand", "DMD-1"),
            1,
            {"totals": {"rooms": 5, "cost": "599.75", "nested": {"x": 1}}},
            created_at=T0 + timedelta(minutes=2),
        ),
    )
    entries = [
        _audit(1, CASE_URN, None, "OPEN", 0),
        _audit(2, CASE_URN, "OPEN", "ALLOCATING", 1),
        _audit(3, g1.urn, "PENDING", "PROCESSING", 3),
        _audit(4, g2.urn, "PENDING", "PROCESSING", 3),
        _audit(5, g3.urn, "PENDING", "PROCESSING", 4),
        _audit(6, g4.urn, "PENDING", "PROCESSING", 4),
        _audit(7, g1.urn, "PROCESSING", "OFFER_READY", 6),
        _audit(8, g2.urn, "PROCESSING", "OFFER_READY", 7),
        _audit(9, g4.urn, "PROCESSING", "FAILED", 8),
        _audit(10, g4.urn, "FAILED", "MANUAL_REVIEW", 9),
        _audit(11, CASE_URN, "ALLOCATING", "BOOKING", 10),
    ]
    # an entry of another shape (no status) is ignored
    entries.append(attrs.evolve(_audit(12, g1.urn, None, "X", 11), after={"note": "viewed"}))
    for e in entries:
        await store.audit.append(LAN, e)
    other = attrs.evolve(make_case("c-tam", airline="TAM"), urn=Urn("case", "c-tam"))
    await store.cases.add(TAM, other)
    return Fixture(store, CASE_URN, other.urn)


@pytest.fixture
async def populated() -> Fixture:
    return await build_populated()
