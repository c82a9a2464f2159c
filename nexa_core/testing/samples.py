"""One valid sample record per store table, for contract suites."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import attrs

from nexa_core.model import (
    AllocationWave,
    AttemptedHotel,
    CardAccount,
    CardLoad,
    Channel,
    Contract,
    ContractRate,
    DemandRequest,
    DemandType,
    IssuedCard,
    ManualReviewItem,
    Money,
    Notification,
    PolicyRecord,
    Reservation,
    ReviewCategory,
    RoomType,
    Tier,
    Transfer,
    TransferDirection,
    Vehicle,
)
from nexa_core.ports import DeadLetter
from nexa_core.testing.builders import make_case, make_sub_case
from nexa_core.urn import Urn

__all__ = ["SAMPLES", "sample"]

_AT = datetime(2026, 5, 5, 12, 0, tzinfo=UTC)


def _case(n: str, a: Urn) -> Any:
    return attrs.evolve(make_case(f"c-{n}"), urn=Urn("case", f"c-{n}"), airline_urn=a)


def _sub(n: str, a: Urn) -> Any:
    return attrs.evolve(make_sub_case(f"sc-{n}"), airline_urn=a)


def _policy(n: str, a: Urn) -> Any:
    return PolicyRecord(
        Urn("policy", f"pol-{n}"),
        a,
        f"policy {n}",
        f"{a}|SCL||",
        1,
        {"name": f"policy {n}", "tiers": ["ECONOMY"]},
        airport="SCL",
    )


def _demand(n: str, a: Urn) -> Any:
    return DemandRequest(Urn("demand", f"DMD-{n}"), a, Urn("case", "c-1"), DemandType.INITIAL, 10)


def _wave(n: str, a: Urn) -> Any:
    return AllocationWave(
        Urn("wave", f"w-{n}"),
        a,
        Urn("case", "c-1"),
        Urn("demand", "DMD-1"),
        1,
        {"assignments": [], "totals": {"rooms": 0}},
    )


def _reservation(n: str, a: Urn) -> Any:
    return Reservation(
        Urn("reservation", f"r-{n}"),
        a,
        Urn("case", "c-1"),
        Urn("sub-case", "sc-1"),
        Urn("offer", "of-1"),
        Urn("hotel", "H1", "sandbox"),
        "Hotel One",
        date(2026, 5, 5),
        date(2026, 5, 6),
        (RoomType.DBL,),
        Money(Decimal("120.00"), "USD"),
    )


def _contract(n: str, a: Urn) -> Any:
    return Contract(
        Urn("contract", f"ct-{n}"),
        a,
        f"Contract Hotel {n}",
        "Av. 1",
        -33.4,
        -70.8,
        4,
        "USD",
        (ContractRate(date(2026, 1, 1), date(2026, 12, 31), "80", 20),),
        frozenset({Urn("airport", "SCL")}),
        frozenset({Tier.ECONOMY}),
    )


def _card(n: str, a: Urn) -> Any:
    return IssuedCard(
        Urn("issued-card", f"ic-{n}"),
        a,
        Urn("case", "c-1"),
        "G1",
        Urn("passenger", "p-1"),
        "USD",
        Money(0, "USD"),
        Money(0, "USD"),
    )


def _transfer(n: str, a: Urn) -> Any:
    return Transfer(
        Urn("transfer", f"t-{n}"),
        a,
        Urn("case", "c-1"),
        (Urn("sub-case", "sc-1"),),
        TransferDirection.AIRPORT_TO_HOTEL,
        Vehicle.SHUTTLE,
        _AT,
        3,
    )


def _notification(n: str, a: Urn) -> Any:
    return Notification(
        Urn("notification", f"n-{n}"),
        a,
        Urn("case", "c-1"),
        "G1",
        "voucher.issued",
        Channel.EMAIL,
        Urn("passenger", "p-1"),
        f"k-{n}",
    )


def _review(n: str, a: Urn) -> Any:
    return ManualReviewItem(
        Urn("review", f"rv-{n}"),
        a,
        Urn("case", "c-1"),
        ReviewCategory.BOOKING_FAILED,
        "every hotel refused",
        ("G1",),
        (AttemptedHotel(Urn("hotel", "H1", "sandbox"), "hotel-full"),),
    )


def _dead(n: str, a: Urn) -> Any:
    return DeadLetter(
        Urn("compensation-dead-letter", f"cdl-{n}"),
        a,
        Urn("case", "c-1"),
        Urn("sub-case", "sc-1"),
        "cancel_booking",
        "vendor refused",
        _AT,
    )


def _card_account(n: str, a: Urn) -> Any:
    return CardAccount(
        Urn("card-account", f"crd-{n}", "pomelo"),
        a,
        f"crd-{n}",
        "USD",
        loads=(CardLoad("load-1", Decimal("25.00")),),
    )


#: table name → builder(suffix, airline URN) → record
SAMPLES: dict[str, Callable[[str, Urn], Any]] = {
    "cases": _case,
    "sub_cases": _sub,
    "policies": _policy,
    "demands": _demand,
    "waves": _wave,
    "reservations": _reservation,
    "contracts": _contract,
    "cards": _card,
    "transfers": _transfer,
    "notifications": _notification,
    "reviews": _review,
    "dead_letters": _dead,
    "card_accounts": _card_account,
}


def sample(table: str, n: str = "1", airline: str = "LAN") -> Any:
    """A valid record for ``table``."""
    return SAMPLES[table](n, Urn("airline", airline))
