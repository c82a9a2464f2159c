"""Small builders for valid domain objects in tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from nexa_core.model import (
    Case,
    Contact,
    Flight,
    PassengerGroup,
    PassengerRef,
    PassengerType,
    SpecialNeed,
    SubCase,
    Tier,
)
from nexa_core.urn import Urn

__all__ = ["make_case", "make_group", "make_passenger", "make_sub_case"]

_T0 = datetime(2026, 5, 5, 18, 0, tzinfo=UTC)


def make_passenger(
    pid: str = "p-1",
    *,
    tier: Tier = Tier.ECONOMY,
    type: PassengerType = PassengerType.ADT,
    needs: frozenset[SpecialNeed] = frozenset(),
    language: str = "en",
) -> PassengerRef:
    """A passenger with a made-up contact."""
    return PassengerRef(
        urn=Urn("passenger", pid, "latam"),
        contact=Contact(f"{pid}@example.com", None, language, f"Pax {pid}"),
        cabin=tier,
        type=type,
        special_needs=needs,
    )


def make_group(
    group_id: str = "G1",
    *,
    pnr: str = "XYZ123",
    passengers: tuple[PassengerRef, ...] | None = None,
    tier: Tier = Tier.ECONOMY,
) -> PassengerGroup:
    """A PNR group (one adult by default)."""
    return PassengerGroup(
        group_id,
        Urn("pnr", pnr, "amadeus"),
        passengers or (make_passenger(f"p-{group_id}", tier=tier),),
    )


def make_case(
    cid: str = "c-1", *, airline: str = "LAN", airport: str = "SCL", event_id: str | None = None
) -> Case:
    """An OPEN case for a cancelled flight."""
    dep = _T0
    return Case(
        urn=Urn("case", cid),
        airline_urn=Urn("airline", airline),
        airport_urn=Urn("airport", airport),
        external_event_id=event_id or f"EV-{cid}",
        flight=Flight(
            Urn("flight", "LA500@20260505"),
            Urn("airport", airport),
            Urn("airport", "EZE"),
            dep,
            "CANCELLED",
        ),
        disrupted_at=dep - timedelta(hours=1),
        next_departure=dep + timedelta(hours=16),
    )


def make_sub_case(
    sid: str = "sc-1", *, case: Case | None = None, group: PassengerGroup | None = None
) -> SubCase:
    """A PENDING sub-case of ``case``."""
    case = case or make_case()
    return SubCase(
        urn=Urn("sub-case", sid),
        case_urn=case.urn,
        airline_urn=case.airline_urn,
        group=group or make_group(),
    )
