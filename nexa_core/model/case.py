"""Airlines, airports, flights, cases and sub-cases with their declared lifecycles."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import attrs

from nexa_core.errors import InvalidInputError
from nexa_core.model.common import StateMachine
from nexa_core.model.passenger import PassengerGroup
from nexa_core.urn import Urn

__all__ = [
    "CASE_LIFECYCLE",
    "SUB_CASE_LIFECYCLE",
    "Airline",
    "Airport",
    "Case",
    "CaseStatus",
    "Flight",
    "StayPlan",
    "SubCase",
    "SubCaseStatus",
]


def _aware(_: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None and value.tzinfo is None:
        raise InvalidInputError(f"{attribute.name} must be timezone-aware", field=attribute.name)


@attrs.frozen
class Airline:
    """A tenant."""

    urn: Urn
    name: str
    default_language: str = "en"


@attrs.frozen
class Airport:
    """An airport from the catalog."""

    urn: Urn
    name: str
    latitude: float
    longitude: float
    timezone: str
    country: str
    default_language: str = "en"

    @property
    def iata(self) -> str:
        """The IATA code."""
        return self.urn.id


@attrs.frozen
class Flight:
    """A (disrupted or rebooked) flight."""

    urn: Urn
    origin: Urn
    destination: Urn
    scheduled_departure: datetime = attrs.field(validator=_aware)
    status: str = "SCHEDULED"

    @property
    def number(self) -> str:
        """Carrier and number, e.g. ``LA500``."""
        return self.urn.id.split("@", 1)[0]


class CaseStatus(enum.StrEnum):
    """Case lifecycle states."""

    OPEN = "OPEN"
    ENRICHING = "ENRICHING"
    ALLOCATING = "ALLOCATING"
    BOOKING = "BOOKING"
    CONFIRMED = "CONFIRMED"
    PARTIAL = "PARTIAL"
    MANUAL_REVIEW = "MANUAL_REVIEW"
    CLOSED = "CLOSED"


_C = CaseStatus
CASE_LIFECYCLE: StateMachine[CaseStatus] = StateMachine(
    "case",
    {
        _C.OPEN: frozenset({_C.ENRICHING, _C.ALLOCATING, _C.MANUAL_REVIEW, _C.CLOSED}),
        _C.ENRICHING: frozenset({_C.ALLOCATING, _C.MANUAL_REVIEW}),
        _C.ALLOCATING: frozenset({_C.BOOKING, _C.MANUAL_REVIEW}),
        _C.BOOKING: frozenset({_C.CONFIRMED, _C.PARTIAL, _C.MANUAL_REVIEW}),
        # incremental demand or re-accommodation reopens allocation on a settled case
        _C.CONFIRMED: frozenset({_C.ALLOCATING, _C.CLOSED}),
        _C.PARTIAL: frozenset({_C.ALLOCATING, _C.BOOKING, _C.MANUAL_REVIEW, _C.CLOSED}),
        _C.MANUAL_REVIEW: frozenset(
            {_C.ALLOCATING, _C.BOOKING, _C.CONFIRMED, _C.PARTIAL, _C.CLOSED}
        ),
        _C.CLOSED: frozenset(),
    },
)


class SubCaseStatus(enum.StrEnum):
    """Sub-case (one PNR's saga) states."""

    PENDING = "PENDING"
    PROCESSING = "PROCESSING"
    OFFER_READY = "OFFER_READY"
    COMPENSATING = "COMPENSATING"
    RESOLVED = "RESOLVED"
    FAILED = "FAILED"
    MANUAL_REVIEW = "MANUAL_REVIEW"
    REJECTED_BY_PAX = "REJECTED_BY_PAX"


_S = SubCaseStatus
SUB_CASE_LIFECYCLE: StateMachine[SubCaseStatus] = StateMachine(
    "sub-case",
    {
        # PENDING → RESOLVED: a group that needs no hotel (local resident, no overnight)
        _S.PENDING: frozenset({_S.PROCESSING, _S.RESOLVED, _S.MANUAL_REVIEW}),
        _S.PROCESSING: frozenset({_S.OFFER_READY, _S.COMPENSATING, _S.FAILED}),
        # passenger accepts → RESOLVED; declines or vendor rolls back → COMPENSATING
        _S.OFFER_READY: frozenset({_S.RESOLVED, _S.COMPENSATING}),
        _S.COMPENSATING: frozenset({_S.PENDING, _S.FAILED}),
        _S.FAILED: frozenset({_S.MANUAL_REVIEW}),
        _S.MANUAL_REVIEW: frozenset({_S.PENDING, _S.PROCESSING, _S.RESOLVED, _S.REJECTED_BY_PAX}),
        _S.RESOLVED: frozenset(),
        _S.REJECTED_BY_PAX: frozenset(),
    },
)


@attrs.frozen
class StayPlan:
    """When a group checks in and out, in the airport's time zone."""

    check_in: datetime = attrs.field(validator=_aware)
    check_out: datetime = attrs.field(validator=_aware)
    nights: int
    timezone: str
    local_resident: bool = False

    def __attrs_post_init__(self) -> None:
        if self.nights < 0:
            raise InvalidInputError("nights cannot be negative", field="nights")
        if self.check_out < self.check_in:
            raise InvalidInputError("check-out is before check-in", field="check_out")


@attrs.frozen
class Case:
    """One disruption: the root aggregate of everything done for its passengers."""

    urn: Urn
    airline_urn: Urn
    airport_urn: Urn
    external_event_id: str
    flight: Flight
    disrupted_at: datetime = attrs.field(validator=_aware)
    next_departure: datetime | None = attrs.field(default=None, validator=_aware)
    status: CaseStatus = CaseStatus.OPEN
    policy_urn: Urn | None = None
    correlation_urn: Urn | None = None
    version: int = 0
    created_at: datetime | None = None
    updated_at: datetime | None = None

    def transition(self, to: CaseStatus) -> Case:
        """A copy in state ``to``; raises :class:`IllegalTransitionError` if not declared."""
        CASE_LIFECYCLE.check(self.status, to, urn=self.urn)
        return attrs.evolve(self, status=to)


@attrs.frozen
class SubCase:
    """One PNR group's saga unit."""

    urn: Urn
    case_urn: Urn
    airline_urn: Urn
    group: PassengerGroup
    status: SubCaseStatus = SubCaseStatus.PENDING
    stay_plan: StayPlan | None = None
    reservation_urn: Urn | None = None
    next_departure: datetime | None = attrs.field(default=None, validator=_aware)
    version: int = 0
    updated_at: datetime | None = None

    def transition(self, to: SubCaseStatus) -> SubCase:
        """A copy in state ``to``; raises :class:`IllegalTransitionError` if not declared."""
        SUB_CASE_LIFECYCLE.check(self.status, to, urn=self.urn)
        return attrs.evolve(self, status=to)
