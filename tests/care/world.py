"""A small, fully wired case for care-service tests (memory store + sandbox partners)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import attrs

from nexa_adapters.memory import MemoryStore
from nexa_adapters.memory.snapshots import MemorySnapshotStore
from nexa_adapters.render import JinjaRenderer
from nexa_adapters.sandbox import (
    FaultInjector,
    SandboxMessages,
    SandboxPayments,
    SandboxTransport,
    airport,
)
from nexa_core.care import (
    CareDeps,
    CareInstructions,
    CareLinks,
    HotelInfo,
    TransportVendor,
    care_for,
)
from nexa_core.model import (
    Contact,
    DispatchMode,
    Money,
    PassengerGroup,
    PassengerRef,
    PassengerType,
    Reservation,
    ReservationStatus,
    RoomType,
    SpecialNeed,
    StayPlan,
    SubCase,
    SubCaseStatus,
    Tier,
)
from nexa_core.policy import MealRules, Policy, PolicyContext, TransportRules
from nexa_core.runtime import FixedClock, SequentialIds
from nexa_core.tenancy import TenantContext
from nexa_core.testing.builders import make_case
from nexa_core.urn import Urn

AIRLINE = Urn("airline", "LAN")
TENANT = TenantContext(AIRLINE)
HOTEL = HotelInfo(
    Urn("hotel", "H1", "sandbox"),
    "Hotel Andes Aeropuerto",
    "Av. Américo Vespucio 1234, Pudahuel, Santiago",
    "+56221234567",
    -33.40,
    -70.79,
)
DEPARTURE = datetime(2026, 5, 6, 14, 0, tzinfo=UTC)  # 10:00 in Santiago
NOW = datetime(2026, 5, 5, 20, 0, tzinfo=UTC)  # 16:00 in Santiago
#: the stay of every group: 17:00 → 08:00 local (dinner and breakfast windows)
STAY = StayPlan(
    datetime(2026, 5, 5, 21, 0, tzinfo=UTC),
    datetime(2026, 5, 6, 12, 0, tzinfo=UTC),
    1,
    "America/Santiago",
)


def pax(
    pid: str,
    name: str,
    *,
    phone: str | None = None,
    language: str | None = "en",
    tier: Tier = Tier.ECONOMY,
    type: PassengerType = PassengerType.ADT,
    needs: frozenset[SpecialNeed] = frozenset(),
) -> PassengerRef:
    return PassengerRef(
        Urn("passenger", pid, "latam"),
        Contact(f"{pid}@example.com", phone, language, name),
        tier,
        type,
        special_needs=needs,
    )


def group(gid: str, pnr: str, *people: PassengerRef) -> PassengerGroup:
    return PassengerGroup(gid, Urn("pnr", pnr, "amadeus"), tuple(people))


def policy(**transport: object) -> Policy:
    return Policy(
        "care",
        PolicyContext(airline="LAN"),
        frozenset(Tier),
        transport=TransportRules(**transport),  # type: ignore[arg-type]
        meals=MealRules(
            allowance={Tier.ECONOMY: Decimal(30), Tier.BUSINESS: Decimal(60)},
            currency="USD",
            schedule="drops",
        ),
    )


@attrs.define
class World:
    store: MemoryStore
    clock: FixedClock
    messages: SandboxMessages
    payments: SandboxPayments
    transport: SandboxTransport
    snapshots: MemorySnapshotStore
    deps: CareDeps
    policy: Policy
    case_urn: Urn
    subs: dict[str, SubCase]
    reservations: dict[str, Reservation]

    def care(self, gid: str) -> CareInstructions:
        """What the world's policy owes group ``gid`` at SCL (Spanish airport default)."""
        sub = self.subs[gid]
        scl = attrs.evolve(airport("SCL"), default_language="es")
        return care_for(self.policy, sub.group, sub.stay_plan, scl)


async def build_world(
    *,
    message_faults: FaultInjector | None = None,
    transport_rules: dict[str, object] | None = None,
    vendors: tuple[TransportVendor, ...] | None = None,
) -> World:
    clock = FixedClock(NOW)
    store = MemoryStore(clock=clock.now)
    case = make_case("c-1")
    await store.cases.add(TENANT, case)
    groups = {
        "G1": group(
            "G1",
            "ABC123",
            pax("p-1", "Ana Souza", phone="+5511987654321", language="pt-BR"),
            pax("p-2", "Bruno Souza", type=PassengerType.CHD, language="pt"),
        ),
        "G2": group("G2", "DEF456", pax("p-3", "Carlos Pérez", language="es")),
        "G3": group(
            "G3", "GHI789", pax("p-4", "Dana Smith", phone="+14155550123", tier=Tier.BUSINESS)
        ),
        "G4": group("G4", "JKL012", pax("p-5", "Eve Adams", phone="+14155550124", language=None)),
    }
    statuses = {
        "G1": SubCaseStatus.OFFER_READY,
        "G2": SubCaseStatus.RESOLVED,
        "G3": SubCaseStatus.OFFER_READY,
        "G4": SubCaseStatus.PROCESSING,
    }
    subs: dict[str, SubCase] = {}
    reservations: dict[str, Reservation] = {}
    for i, (gid, g) in enumerate(groups.items(), start=1):
        res_urn = Urn("reservation", f"r-{i}")
        sc = SubCase(
            Urn("sub-case", f"sc-{i}"),
            case.urn,
            AIRLINE,
            g,
            status=statuses[gid],
            stay_plan=STAY,
            next_departure=DEPARTURE,
            reservation_urn=res_urn,
        )
        subs[gid] = await store.sub_cases.add(TENANT, sc)
        reservations[gid] = await store.reservations.add(
            TENANT,
            Reservation(
                res_urn,
                AIRLINE,
                case.urn,
                sc.urn,
                Urn("offer", "of-1"),
                HOTEL.hotel_urn,
                HOTEL.name,
                date(2026, 5, 5),
                date(2026, 5, 6),
                (RoomType.DBL,),
                Money("95.00", "USD"),
                status=ReservationStatus.CONFIRMED,
                confirmation_urn=Urn("reservation", f"SBX-{i:04d}", "sandbox", "confirmed"),
                hotel_address=HOTEL.address,
                hotel_phone=HOTEL.phone,
                hotel_latitude=HOTEL.latitude,
                hotel_longitude=HOTEL.longitude,
            ),
        )
    messages = SandboxMessages(faults=message_faults)
    payments = SandboxPayments()
    transport = SandboxTransport()
    snapshots = MemorySnapshotStore()
    deps = CareDeps(
        store=store,
        clock=clock,
        ids=SequentialIds(),
        snapshots=snapshots,
        messages=(messages,),
        renderer=JinjaRenderer(),
        payments=payments,
        transport=vendors if vendors is not None else (TransportVendor(transport),),
        links=CareLinks(
            passenger_url="https://pax.example/{airline}/{sub_case}",
            card_reveal_url="https://wallet.example/reveal/{card}",
        ),
    )
    rules = transport_rules or {"dispatch": {Tier.ECONOMY: DispatchMode.ON_DEMAND}}
    return World(
        store,
        clock,
        messages,
        payments,
        transport,
        snapshots,
        deps,
        policy(**rules),
        case.urn,
        subs,
        reservations,
    )


def later(clock: FixedClock, hours: float) -> None:
    clock.advance(timedelta(hours=hours))
