"""Shared value objects: enums, money, a declarative state machine, the aggregate protocol."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from decimal import Decimal
from typing import Generic, Protocol, TypeVar, runtime_checkable

import attrs

from nexa_core.errors import IllegalTransitionError, InvalidInputError
from nexa_core.urn import Urn

__all__ = [
    "Aggregate",
    "Money",
    "PassengerType",
    "SpecialNeed",
    "StateMachine",
    "Tier",
    "to_decimal",
]


class Tier(enum.StrEnum):
    """Service tier of a passenger group (cabin-derived), plus crew."""

    ECONOMY = "ECONOMY"
    PREMIUM_ECONOMY = "PREMIUM_ECONOMY"
    BUSINESS = "BUSINESS"
    FIRST = "FIRST"
    CREW = "CREW"


class PassengerType(enum.StrEnum):
    """IATA passenger type: adult, child, infant (no seat, no bed)."""

    ADT = "ADT"
    CHD = "CHD"
    INF = "INF"


class SpecialNeed(enum.StrEnum):
    """Special-service-request flags that matter for rooming and transport."""

    WCHR = "WCHR"  # wheelchair for distance, can climb stairs
    WCHS = "WCHS"  # cannot climb stairs
    WCHC = "WCHC"  # completely immobile
    BLND = "BLND"
    DEAF = "DEAF"
    DPNA = "DPNA"  # disabled passenger needing assistance
    MEDA = "MEDA"  # medical case
    PREG = "PREG"
    UMNR = "UMNR"  # unaccompanied minor

    @property
    def needs_accessible_room(self) -> bool:
        """Whether this need requires an accessible (wheelchair) room."""
        return self in (SpecialNeed.WCHR, SpecialNeed.WCHS, SpecialNeed.WCHC, SpecialNeed.DPNA)


def to_decimal(value: object) -> Decimal:
    """Coerce ints, strings and Decimals to Decimal (floats go through ``str``)."""
    return value if isinstance(value, Decimal) else Decimal(str(value))


@attrs.frozen
class Money:
    """An amount in a currency (ISO 4217). Amounts are Decimals, never floats."""

    amount: Decimal = attrs.field(converter=to_decimal)
    currency: str = attrs.field()

    @currency.validator
    def _check_currency(self, _: object, value: str) -> None:
        if len(value) != 3 or not value.isalpha() or not value.isupper():
            raise InvalidInputError(f"currency {value!r} is not an ISO 4217 code", field="currency")

    def __add__(self, other: Money) -> Money:
        if other.currency != self.currency:
            raise InvalidInputError(
                f"cannot add {other.currency} to {self.currency}", field="currency"
            )
        return Money(self.amount + other.amount, self.currency)

    def times(self, factor: int | Decimal) -> Money:
        """This amount multiplied by ``factor``."""
        return Money(self.amount * factor, self.currency)

    def __str__(self) -> str:
        return f"{self.amount:.2f} {self.currency}"


S = TypeVar("S", bound=enum.Enum)


@attrs.frozen
class StateMachine(Generic[S]):
    """Transitions declared as data: ``{state: {allowed next states}}``."""

    name: str
    transitions: Mapping[S, frozenset[S]]

    @property
    def terminal(self) -> frozenset[S]:
        """States with no way out."""
        return frozenset(s for s, nxt in self.transitions.items() if not nxt)

    def allowed(self, src: S, dst: S) -> bool:
        """Whether ``src → dst`` is a declared transition."""
        return dst in self.transitions.get(src, frozenset())

    def check(self, src: S, dst: S, *, urn: Urn | None = None) -> None:
        """Raise :class:`IllegalTransitionError` unless ``src → dst`` is declared."""
        if not self.allowed(src, dst):
            raise IllegalTransitionError(
                f"{self.name}: {src.value} → {dst.value} is not allowed",
                machine=self.name,
                source=src.value,
                target=dst.value,
                urn=str(urn) if urn else None,
            )


@runtime_checkable
class Aggregate(Protocol):
    """What every tenant-scoped, versioned record exposes to the stores."""

    @property
    def urn(self) -> Urn: ...

    @property
    def airline_urn(self) -> Urn: ...

    @property
    def version(self) -> int: ...
