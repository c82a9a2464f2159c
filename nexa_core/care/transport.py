"""Ground transport planning: vehicles, shuttle consolidation, vendor selection.

Pure rules (facts file §12):

* the tier decides the vehicle (SHUTTLE / PRIVATE_CAR) and the dispatch mode
  (AUTOMATIC / ON_DEMAND / MANUAL) through :class:`~nexa_core.policy.TransportRules`;
* shuttles consolidate groups at the same hotel whose pickup windows overlap, up to the
  shuttle capacity, and overflow into another vehicle; a PNR is never split;
* hotel → airport pickup is at the latest ``departure − minutesBeforePickup``;
* vendors are tried in order and the first that passes coverage → capacity → cost
  ceiling → tenant pinning wins (:func:`select_vendor`); none → a TRANSPORT_FAILED item.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import attrs

from nexa_core.errors import InvalidInputError
from nexa_core.model import (
    TRANSFER_LIFECYCLE,
    DispatchMode,
    Money,
    Tier,
    Transfer,
    TransferDirection,
    TransferStatus,
    Vehicle,
)
from nexa_core.policy import TransportRules
from nexa_core.urn import Urn

__all__ = [
    "DEFAULT_PICKUP_WINDOW",
    "RideDemand",
    "TransportPlan",
    "VehicleRun",
    "VendorCandidate",
    "VendorChoice",
    "apply_transfer_status",
    "dispatch_mode",
    "is_late_cancellation",
    "pickup_deadline",
    "plan_rides",
    "select_vendor",
]

#: How early before the latest pickup a group can be collected (the shareable window).
DEFAULT_PICKUP_WINDOW = timedelta(minutes=60)


def pickup_deadline(departure: datetime, rules: TransportRules) -> datetime:
    """The latest hotel pickup for a departure: ``departure − minutesBeforePickup``."""
    return departure - timedelta(minutes=rules.minutes_before_pickup)


@attrs.frozen
class RideDemand:
    """One PNR group that needs a ride (never split across vehicles)."""

    sub_case_urn: Urn
    group_id: str
    pnr: str
    hotel_urn: Urn
    passengers: int
    tier: Tier
    direction: TransferDirection
    earliest: datetime  # the group can be collected from
    latest: datetime  # and must be collected by

    def __attrs_post_init__(self) -> None:
        if self.passengers < 1:
            raise InvalidInputError("a ride needs at least one passenger", field="passengers")
        if self.latest < self.earliest:
            raise InvalidInputError("pickup window ends before it starts", field="latest")

    @classmethod
    def to_airport(
        cls,
        *,
        sub_case_urn: Urn,
        group_id: str,
        pnr: str,
        hotel_urn: Urn,
        passengers: int,
        tier: Tier,
        departure: datetime,
        rules: TransportRules,
        window: timedelta = DEFAULT_PICKUP_WINDOW,
    ) -> RideDemand:
        """A hotel → airport ride for a departure (pickup by departure − buffer)."""
        latest = pickup_deadline(departure, rules)
        return cls(
            sub_case_urn,
            group_id,
            pnr,
            hotel_urn,
            passengers,
            tier,
            TransferDirection.HOTEL_TO_AIRPORT,
            latest - window,
            latest,
        )

    @classmethod
    def to_hotel(
        cls,
        *,
        sub_case_urn: Urn,
        group_id: str,
        pnr: str,
        hotel_urn: Urn,
        passengers: int,
        tier: Tier,
        ready_at: datetime,
        window: timedelta = DEFAULT_PICKUP_WINDOW,
    ) -> RideDemand:
        """An airport → hotel ride for a group ready to leave at ``ready_at``."""
        return cls(
            sub_case_urn,
            group_id,
            pnr,
            hotel_urn,
            passengers,
            tier,
            TransferDirection.AIRPORT_TO_HOTEL,
            ready_at,
            ready_at + window,
        )


@attrs.frozen
class VehicleRun:
    """One vehicle: who rides, when it picks up."""

    vehicle: Vehicle
    direction: TransferDirection
    hotel_urn: Urn
    pickup_at: datetime
    riders: tuple[RideDemand, ...]
    tier: Tier

    @property
    def passengers(self) -> int:
        """Seats taken."""
        return sum(r.passengers for r in self.riders)

    @property
    def sub_case_urns(self) -> tuple[Urn, ...]:
        """The sub-cases riding (one per PNR)."""
        return tuple(r.sub_case_urn for r in self.riders)


@attrs.frozen
class TransportPlan:
    """Vehicles to dispatch and groups that could not be placed (with reasons)."""

    runs: tuple[VehicleRun, ...]
    unplaced: tuple[tuple[RideDemand, str], ...] = ()


@attrs.define
class _Open:
    riders: list[RideDemand]
    earliest: datetime
    latest: datetime
    seats: int


_TIER_ORDER = list(Tier)
_TO_AIRPORT = TransferDirection.HOTEL_TO_AIRPORT


def _pickup(d: RideDemand) -> datetime:
    # to the airport: as late as the departure allows; from it: as soon as the group is ready
    return d.latest if d.direction is _TO_AIRPORT else d.earliest


def plan_rides(demands: Sequence[RideDemand], rules: TransportRules) -> TransportPlan:
    """Assign every demand to a vehicle.

    Shuttle demands at the same hotel and direction share a vehicle when their windows
    overlap and seats remain (first fit in order of latest pickup). To the airport a
    vehicle picks up at the earliest ``latest`` of its riders; from the airport, at the
    latest ``earliest`` (when the last group is ready) — inside every rider's window.
    Private-car demands get a car each. A group larger than the shuttle capacity is
    never split: it is reported in ``unplaced``.
    """
    cap = rules.shuttle_capacity
    if cap < 1:
        raise InvalidInputError("shuttle capacity must be at least 1", field="shuttle_capacity")
    runs: list[VehicleRun] = []
    unplaced: list[tuple[RideDemand, str]] = []
    pools: dict[tuple[str, TransferDirection], list[_Open]] = {}
    ordered = sorted(demands, key=lambda d: (d.latest, d.earliest, d.group_id))
    for d in ordered:
        vehicle = rules.vehicle_for(d.tier)
        if vehicle is Vehicle.PRIVATE_CAR:
            runs.append(VehicleRun(vehicle, d.direction, d.hotel_urn, _pickup(d), (d,), d.tier))
            continue
        if d.passengers > cap:
            unplaced.append((d, f"group of {d.passengers} exceeds shuttle capacity {cap}"))
            continue
        pool = pools.setdefault((str(d.hotel_urn.base), d.direction), [])
        for run in pool:
            earliest = max(run.earliest, d.earliest)
            latest = min(run.latest, d.latest)
            if run.seats + d.passengers <= cap and earliest <= latest:
                run.riders.append(d)
                run.earliest, run.latest = earliest, latest
                run.seats += d.passengers
                break
        else:
            pool.append(_Open([d], d.earliest, d.latest, d.passengers))
    for (_, direction), pool in pools.items():
        for run in pool:
            tier = max((r.tier for r in run.riders), key=_TIER_ORDER.index)
            runs.append(
                VehicleRun(
                    Vehicle.SHUTTLE,
                    direction,
                    run.riders[0].hotel_urn,
                    run.latest if direction is _TO_AIRPORT else run.earliest,
                    tuple(run.riders),
                    tier,
                )
            )
    runs.sort(key=lambda r: (r.pickup_at, str(r.hotel_urn), r.riders[0].group_id))
    return TransportPlan(tuple(runs), tuple(unplaced))


@attrs.frozen
class VendorCandidate:
    """A vendor's answer for one run, with what selection checks."""

    vendor: str
    covers: bool  # route eligibility
    max_passengers: int  # capacity for the time and size
    available: bool  # the vendor's own availability answer
    price: Money | None


@attrs.frozen
class VendorChoice:
    """The winner (or none) and why each candidate lost."""

    vendor: str | None
    rejected: tuple[tuple[str, str], ...]


def select_vendor(
    candidates: Sequence[VendorCandidate],
    *,
    passengers: int,
    tier: Tier,
    route: str,
    rules: TransportRules,
) -> VendorChoice:
    """First candidate that passes coverage → capacity → cost ceiling → pinning.

    ``route`` is the pinning key (the airport IATA code, e.g. ``"SCL"``); a pinned route
    admits only its vendor.
    """
    ceiling = rules.cost_ceiling.get(tier)
    pinned = rules.vendor_pinning.get(route)
    rejected: list[tuple[str, str]] = []
    for c in candidates:
        if not c.covers:
            rejected.append((c.vendor, "coverage"))
        elif not c.available or passengers > c.max_passengers:
            rejected.append((c.vendor, "capacity"))
        elif ceiling is not None and (
            c.price is None
            or c.price.currency != ceiling.currency
            or c.price.amount > ceiling.amount
        ):
            rejected.append((c.vendor, "cost-ceiling"))
        elif pinned is not None and c.vendor != pinned:
            rejected.append((c.vendor, f"pinned-to-{pinned}"))
        else:
            return VendorChoice(c.vendor, tuple(rejected))
    return VendorChoice(None, tuple(rejected))


def apply_transfer_status(transfer: Transfer, status: TransferStatus) -> Transfer:
    """The transfer after a vendor webhook reports ``status``.

    A repeated status is a no-op (webhooks are delivered at least once); anything the
    lifecycle forbids raises :class:`IllegalTransitionError`.
    """
    if transfer.status is status:
        return transfer
    TRANSFER_LIFECYCLE.check(transfer.status, status, urn=transfer.urn)
    return attrs.evolve(transfer, status=status)


def is_late_cancellation(transfer: Transfer, now: datetime, deadline: timedelta) -> bool:
    """Whether cancelling now is inside the vendor's free-cancellation deadline."""
    return now > transfer.pickup_at - deadline


def dispatch_mode(tier: Tier, rules: TransportRules) -> DispatchMode:
    """The tier's dispatch mode (AUTOMATIC / ON_DEMAND / MANUAL)."""
    return rules.dispatch_for(tier)
