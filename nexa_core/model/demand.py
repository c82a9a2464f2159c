"""Demand requests, allocation waves, direct contracts, domain events."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import attrs

from nexa_core.model.common import StateMachine, Tier, to_decimal
from nexa_core.urn import Urn

__all__ = [
    "DEMAND_LIFECYCLE",
    "AllocationWave",
    "Contract",
    "ContractRate",
    "DemandRequest",
    "DemandStatus",
    "DemandType",
    "DomainEvent",
]


class DemandType(enum.StrEnum):
    """Baseline or additional rooms."""

    INITIAL = "INITIAL"
    INCREMENTAL = "INCREMENTAL"


class DemandStatus(enum.StrEnum):
    """Demand request lifecycle."""

    REQUESTED = "REQUESTED"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    FULFILLED = "FULFILLED"
    PARTIAL = "PARTIAL"


_D = DemandStatus
DEMAND_LIFECYCLE: StateMachine[DemandStatus] = StateMachine(
    "demand",
    {
        _D.REQUESTED: frozenset({_D.APPROVED, _D.REJECTED}),
        _D.APPROVED: frozenset({_D.FULFILLED, _D.PARTIAL}),
        _D.PARTIAL: frozenset({_D.FULFILLED}),
        _D.REJECTED: frozenset(),
        _D.FULFILLED: frozenset(),
    },
)


@attrs.frozen
class DemandRequest:
    """A request for rooms that must be approved before allocation starts."""

    urn: Urn
    airline_urn: Urn
    case_urn: Urn
    type: DemandType
    rooms_requested: int
    status: DemandStatus = DemandStatus.REQUESTED
    reason: str | None = None
    decided_by: Urn | None = None
    policy_urn: Urn | None = None
    requested_at: datetime | None = None
    version: int = 0

    def transition(self, to: DemandStatus) -> DemandRequest:
        """A copy in state ``to`` (checked against the lifecycle)."""
        DEMAND_LIFECYCLE.check(self.status, to, urn=self.urn)
        return attrs.evolve(self, status=to)


@attrs.frozen
class AllocationWave:
    """The persisted outcome of one allocation run (candidates, assignments, totals)."""

    urn: Urn
    airline_urn: Urn
    case_urn: Urn
    demand_urn: Urn
    sequence: int
    plan: Mapping[str, Any] = attrs.field(factory=dict)
    created_at: datetime | None = None
    version: int = 0


@attrs.frozen
class ContractRate:
    """Guaranteed rooms at a rate for a date range."""

    valid_from: date
    valid_until: date
    nightly_rate: Decimal = attrs.field(converter=to_decimal)
    guaranteed_rooms: int = 0
    room_type: str = "DBL"


@attrs.frozen
class Contract:
    """A direct hotel contract scoped to airports and tiers."""

    urn: Urn
    airline_urn: Urn
    hotel_name: str
    address: str
    latitude: float
    longitude: float
    stars: int
    currency: str
    rates: tuple[ContractRate, ...]
    airports: frozenset[Urn]
    tiers: frozenset[Tier] = frozenset(Tier)
    amenities: frozenset[str] = frozenset()
    external_ids: tuple[tuple[str, str], ...] = ()
    market_rate: Decimal | None = None
    phone: str | None = None
    rooms_booked: int = 0
    version: int = 0


@attrs.frozen
class DomainEvent:
    """A typed event committed with the state change that implies it (outbox record)."""

    urn: Urn  # urn:event:…
    airline_urn: Urn
    type: str  # "case.created", "subcase.offer-ready", …
    subject_urn: Urn
    occurred_at: datetime
    correlation_urn: Urn | None = None
    data: Mapping[str, Any] = attrs.field(factory=dict)
    key: str = ""  # idempotency key of the consumer-side action
