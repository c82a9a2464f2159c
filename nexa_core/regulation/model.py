"""What a regulation preset reads (a disruption, a carrier, a passenger's flags) and what it owes."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import date, timedelta
from typing import TypeVar

import attrs

from nexa_core.errors import InvalidInputError
from nexa_core.model import Money, PassengerRef, PassengerType

__all__ = [
    "MAX_DELAY",
    "MAX_NOTICE",
    "US_TERRITORIES",
    "CareOwed",
    "Carrier",
    "CarrierSize",
    "ControlCategory",
    "Deadline",
    "DeadlineDuty",
    "Disruption",
    "DotCommitment",
    "OptionKind",
    "PassengerFlags",
    "PassengerOption",
    "domestic_between",
]

#: the longest delay (departure or arrival) a disruption may carry; longer is an input error
MAX_DELAY = timedelta(days=30)
#: the earliest notice a disruption may carry (passengers told up to a year ahead)
MAX_NOTICE = timedelta(days=365)

#: ISO 3166-1 codes of US territories: a flight between them and the states is domestic
#: for the DOT (14 CFR 260: "interstate" air transportation includes the territories)
US_TERRITORIES = frozenset({"PR", "VI", "GU", "AS", "MP", "UM"})


def domestic_between(origin_country: str, destination_country: str) -> bool:
    """Whether a flight between two countries (ISO 3166-1 alpha-2) is domestic.

    Both airports in one country; US territories count as the United States.
    """
    a, b = origin_country.upper(), destination_country.upper()
    a = "US" if a in US_TERRITORIES else a
    b = "US" if b in US_TERRITORIES else b
    return a == b


class ControlCategory(enum.StrEnum):
    """Who caused the disruption (the APPR wording; EU261 and DOT map onto it)."""

    CONTROLLABLE = "CONTROLLABLE"  # within the carrier's control
    SAFETY = "SAFETY"  # within the carrier's control but required for safety
    UNCONTROLLABLE = "UNCONTROLLABLE"  # outside the carrier's control (weather, ATC, …)

    @property
    def within_carrier_control(self) -> bool:
        """CONTROLLABLE and SAFETY are both within the carrier's control."""
        return self is not ControlCategory.UNCONTROLLABLE


class CarrierSize(enum.StrEnum):
    """APPR s. 1(2): a large carrier carried two million passengers or more worldwide in
    each of the two preceding calendar years; every other carrier is small."""

    LARGE = "LARGE"
    SMALL = "SMALL"


class DotCommitment(enum.StrEnum):
    """A commitment an airline has published on the US DOT Airline Customer Service
    Dashboard. Voluntary, per airline, for controllable cancellations and delays only."""

    REBOOK_SAME_AIRLINE = "REBOOK_SAME_AIRLINE"  # rebook on the same airline at no cost
    REBOOK_OTHER_AIRLINE = "REBOOK_OTHER_AIRLINE"  # rebook on a partner / other airline
    MEAL = "MEAL"  # meal or meal cash/voucher when waiting 3 h or more
    HOTEL = "HOTEL"  # complimentary hotel for a passenger affected overnight
    GROUND_TRANSPORT = "GROUND_TRANSPORT"  # to and from that hotel


def _size(value: str) -> CarrierSize:
    try:
        return CarrierSize(str(value).upper())
    except ValueError:
        raise InvalidInputError(
            f"unknown carrier size {value!r}; use LARGE or SMALL", field="carrier_size"
        ) from None


def _commitments(values: Iterable[str]) -> frozenset[DotCommitment]:
    out: set[DotCommitment] = set()
    for v in (values,) if isinstance(values, str) else values:
        try:
            out.add(DotCommitment(str(v).upper().replace("-", "_")))
        except ValueError:
            known = ", ".join(c.value for c in DotCommitment)
            raise InvalidInputError(
                f"unknown DOT commitment {v!r}; known: {known}", field="dot_commitments"
            ) from None
    return frozenset(out)


@attrs.frozen(cache_hash=True)
class Carrier:
    """The operating carrier, as the regulations see it (an airline-level setting).

    ``size`` picks the APPR amounts and rebooking standards; ``dot_commitments`` are the
    dashboard commitments this airline has published (none unless the airline says so).
    """

    size: CarrierSize = attrs.field(default=CarrierSize.LARGE, converter=_size)
    dot_commitments: frozenset[DotCommitment] = attrs.field(
        default=frozenset(), converter=_commitments
    )


def _delay(_: object, attribute: attrs.Attribute[timedelta], value: timedelta) -> None:
    if value < timedelta(0):
        raise InvalidInputError(f"{attribute.name} cannot be negative", field=attribute.name)
    if value > MAX_DELAY:
        raise InvalidInputError(
            f"{attribute.name} cannot exceed {MAX_DELAY.days} days", field=attribute.name
        )


def _optional_delay(_: object, attribute: attrs.Attribute[timedelta | None], v: object) -> None:
    if v is not None:
        _delay(_, attribute, v)  # type: ignore[arg-type]


def _notice(_: object, attribute: attrs.Attribute[timedelta | None], value: object) -> None:
    if value is None:
        return
    assert isinstance(value, timedelta)
    if value < timedelta(0):
        raise InvalidInputError("notice cannot be negative", field="notice")
    if value > MAX_NOTICE:
        raise InvalidInputError(
            f"notice cannot exceed {MAX_NOTICE.days} days before departure", field="notice"
        )


def _distance(_: object, __: object, value: float) -> None:
    if not value >= 0.0:  # also rejects NaN
        raise InvalidInputError("distance_km must be a non-negative number", field="distance_km")


@attrs.frozen(cache_hash=True)
class Disruption:
    """A disrupted departure as the regulations see it.

    ``delay`` is the waiting time: from the scheduled departure until the passenger leaves
    or will leave (for a cancellation: until the rebooked departure), at most
    :data:`MAX_DELAY`; ``arrival_delay`` (defaults to ``delay``) drives compensation;
    ``overnight`` says the new departure is on a later day than the scheduled one, so a
    night must be spent waiting. ``domestic`` says both airports are in one country
    (:func:`domestic_between`). ``notice`` is how long before the scheduled departure the
    passengers were told (``None``: at the airport, which is the same as no notice).
    """

    delay: timedelta = attrs.field(validator=_delay)
    distance_km: float = attrs.field(converter=float, validator=_distance)
    control: ControlCategory = ControlCategory.CONTROLLABLE
    overnight: bool = False
    cancelled: bool = False
    intra_eu: bool = False
    arrival_delay: timedelta | None = attrs.field(default=None, validator=_optional_delay)
    domestic: bool = False
    notice: timedelta | None = attrs.field(default=None, validator=_notice)
    carrier: Carrier = attrs.field(factory=Carrier)

    @property
    def effective_arrival_delay(self) -> timedelta:
        """The arrival delay used for compensation."""
        return self.delay if self.arrival_delay is None else self.arrival_delay

    @property
    def effective_notice(self) -> timedelta:
        """The notice given (none given counts as zero)."""
        return timedelta(0) if self.notice is None else self.notice


@attrs.frozen(cache_hash=True)
class PassengerFlags:
    """What a preset needs to know about one passenger.

    ``declines_alternative``: the passenger turns down the re-accommodation offered and
    wants their money back. ``denied_boarding``: boarded against their will (a volunteer
    who accepted the carrier's offer is not denied boarding).
    """

    local_resident: bool = False  # lives where the disruption happens
    special_assistance: bool = False  # reduced mobility, medical, pregnant, with an infant…
    infant: bool = False
    declines_alternative: bool = False
    denied_boarding: bool = False

    @classmethod
    def of(cls, passenger: PassengerRef, *, local_resident: bool = False) -> PassengerFlags:
        """Flags derived from a passenger reference (any SSR counts as special assistance)."""
        return cls(
            local_resident=local_resident,
            special_assistance=bool(passenger.special_needs),
            infant=passenger.type is PassengerType.INF,
        )


class OptionKind(enum.StrEnum):
    """A choice the law gives the passenger."""

    REACCOMMODATION = "reaccommodation"  # next suitable flight (own, partner or other)
    REBOOKING_LATER = "rebooking_later"  # a later date of the passenger's choosing
    REFUND = "refund"
    OTHER_MODE = "other_mode"  # the journey by another mode of transport


@attrs.frozen
class PassengerOption:
    """One of the passenger's choices, with the rule that grants it."""

    kind: OptionKind
    citation: str


class DeadlineDuty(enum.StrEnum):
    """What a deadline is for."""

    REFUND = "refund"
    COMPENSATION = "compensation"
    CLAIM_REPLY = "claim_reply"  # answer a compensation claim (pay or explain)


@attrs.frozen
class Deadline:
    """A time limit the law sets on the carrier, counted from ``counted_from``.

    ``days`` 0 means immediately; ``business_days`` counts Monday to Friday only (public
    holidays are not modelled).
    """

    duty: DeadlineDuty
    days: int
    counted_from: str
    citation: str
    business_days: bool = False
    condition: str = ""

    def due(self, start: date) -> date:
        """The last day to comply when the clock starts on ``start``."""
        if not self.business_days:
            return start + timedelta(days=self.days)
        day, left = start, self.days
        while left:
            day += timedelta(days=1)
            if day.weekday() < 5:
                left -= 1
        return day


_T = TypeVar("_T")


def _union(first: tuple[_T, ...], second: tuple[_T, ...]) -> tuple[_T, ...]:
    return first + tuple(x for x in second if x not in first)


@attrs.frozen
class CareOwed:
    """The care one passenger is owed, each right with the rule that grants it.

    ``citations`` names the rule for every right granted (and the rule that withholds one);
    ``options`` are the passenger's choices and ``deadlines`` the time limits, each with
    its own citation. ``refund`` is true when the passenger declines the alternative and
    the law then owes the money back.
    """

    regulation: str
    meals: bool = False
    hotel: bool = False
    transport: bool = False
    communication: bool = False
    compensation: Money | None = None
    citations: tuple[str, ...] = ()
    refund: bool = False
    options: tuple[PassengerOption, ...] = ()
    deadlines: tuple[Deadline, ...] = ()

    @property
    def anything(self) -> bool:
        """Whether any care, choice, refund or compensation is owed."""
        return (
            self.meals
            or self.hotel
            or self.transport
            or self.communication
            or self.refund
            or bool(self.options)
            or self.compensation is not None
        )

    @property
    def option_kinds(self) -> tuple[OptionKind, ...]:
        """The distinct kinds of choice offered, in order."""
        return tuple(dict.fromkeys(o.kind for o in self.options))

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
            citations=_union(self.citations, other.citations),
            refund=self.refund or other.refund,
            options=_union(self.options, other.options),
            deadlines=_union(self.deadlines, other.deadlines),
        )
