"""What a regulation preset reads (a disruption, a passenger's flags) and what it owes."""

from __future__ import annotations

import enum
from datetime import timedelta

import attrs

from nexa_core.errors import InvalidInputError
from nexa_core.model import Money, PassengerRef, PassengerType

__all__ = ["CareOwed", "ControlCategory", "Disruption", "PassengerFlags"]


class ControlCategory(enum.StrEnum):
    """Who caused the disruption (the APPR wording; EU261 and DOT map onto it)."""

    CONTROLLABLE = "CONTROLLABLE"  # within the carrier's control
    SAFETY = "SAFETY"  # within the carrier's control but required for safety
    UNCONTROLLABLE = "UNCONTROLLABLE"  # outside the carrier's control (weather, ATC, …)

    @property
    def within_carrier_control(self) -> bool:
        """CONTROLLABLE and SAFETY are both within the carrier's control."""
        return self is not ControlCategory.UNCONTROLLABLE


def _non_negative(_: object, attribute: attrs.Attribute[timedelta], value: timedelta) -> None:
    if value < timedelta(0):
        raise InvalidInputError(f"{attribute.name} cannot be negative", field=attribute.name)


def _distance(_: object, __: object, value: float) -> None:
    if not value >= 0.0:  # also rejects NaN
        raise InvalidInputError("distance_km must be a non-negative number", field="distance_km")


@attrs.frozen
class Disruption:
    """A disrupted departure as the regulations see it.

    ``delay`` is the departure delay (time from the scheduled departure until the passenger
    leaves or will leave); ``arrival_delay`` (defaults to ``delay``) drives compensation;
    ``overnight`` says the new departure is on a later day than the scheduled one, so a
    night must be spent waiting.
    """

    delay: timedelta = attrs.field(validator=_non_negative)
    distance_km: float = attrs.field(converter=float, validator=_distance)
    control: ControlCategory = ControlCategory.CONTROLLABLE
    overnight: bool = False
    cancelled: bool = False
    intra_eu: bool = False
    arrival_delay: timedelta | None = None

    @property
    def effective_arrival_delay(self) -> timedelta:
        """The arrival delay used for compensation."""
        return self.delay if self.arrival_delay is None else self.arrival_delay


@attrs.frozen
class PassengerFlags:
    """What a preset needs to know about one passenger."""

    local_resident: bool = False  # lives where the disruption happens
    special_assistance: bool = False  # reduced mobility, medical, pregnant, with an infant…
    infant: bool = False

    @classmethod
    def of(cls, passenger: PassengerRef, *, local_resident: bool = False) -> PassengerFlags:
        """Flags derived from a passenger reference (any SSR counts as special assistance)."""
        return cls(
            local_resident=local_resident,
            special_assistance=bool(passenger.special_needs),
            infant=passenger.type is PassengerType.INF,
        )


@attrs.frozen
class CareOwed:
    """The care one passenger is owed, each right with the rule that grants it."""

    regulation: str
    meals: bool = False
    hotel: bool = False
    transport: bool = False
    communication: bool = False
    compensation: Money | None = None
    citations: tuple[str, ...] = ()

    @property
    def anything(self) -> bool:
        """Whether any care or compensation is owed."""
        return (
            self.meals
            or self.hotel
            or self.transport
            or self.communication
            or self.compensation is not None
        )

    def merge(self, other: CareOwed) -> CareOwed:
        """The union of two entitlements (several presets may apply to one tenant).

        Compensation in different currencies keeps the first; both citations remain.
        """
        comp = self.compensation
        if other.compensation is not None and (
            comp is None
            or (
                comp.currency == other.compensation.currency
                and other.compensation.amount > comp.amount
            )
        ):
            comp = other.compensation
        return CareOwed(
            regulation="+".join(r for r in (self.regulation, other.regulation) if r),
            meals=self.meals or other.meals,
            hotel=self.hotel or other.hotel,
            transport=self.transport or other.transport,
            communication=self.communication or other.communication,
            compensation=comp,
            citations=self.citations + tuple(c for c in other.citations if c not in self.citations),
        )
