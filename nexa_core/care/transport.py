"""Ground transport: vehicles, shuttle consolidation, vendor selection — and dispatch.

Rules (facts file §12) and the transport service (dispatch per sub-case in each
policy mode, vendor webhooks, cancellation with late fees):

* the tier decides the vehicle (SHUTTLE / PRIVATE_CAR) and the dispatch mode
  (AUTOMATIC / ON_DEMAND / MANUAL) through :class:`~nexa_core.policy.TransportRules`;
* shuttles consolidate groups at the same hotel whose pickup windows overlap, up to the
  shuttle capacity, and overflow into another vehicle; a PNR is never split;
* hotel → airport pickup is at the latest ``departure − minutesBeforePickup``;
* vendors are tried in order and the first that passes coverage → capacity → cost
  ceiling → tenant pinning wins (:func:`select_vendor`); none → a TRANSPORT_FAILED item.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import datetime, timedelta

import attrs

from nexa_core.care.context import (
    CareDeps,
    CareInstructions,
    TransportVendor,
    audit_entry,
    domain_event,
    on_case_timeline,
    open_review,
)
from nexa_core.care.document import refresh_document
from nexa_core.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PermanentProviderError,
    ProviderError,
    TransientProviderError,
    WebhookVerificationError,
)
from nexa_core.idempotency import idempotency_key
from nexa_core.model import (
    TRANSFER_LIFECYCLE,
    DispatchMode,
    ManualReviewItem,
    Money,
    Reservation,
    ReviewCategory,
    SubCase,
    Tier,
    Transfer,
    TransferDirection,
    TransferStatus,
    Vehicle,
)
from nexa_core.policy import TransportRules
from nexa_core.ports import TransferRequest
from nexa_core.tenancy import TenantContext
from nexa_core.urn import Urn, without_status

__all__ = [
    "DEFAULT_PICKUP_WINDOW",
    "FREE_CANCELLATION",
    "LIVE_TRANSFER",
    "RideDemand",
    "TransferUpdateOutcome",
    "TransportOutcome",
    "TransportPlan",
    "VehicleRun",
    "VendorCandidate",
    "VendorChoice",
    "apply_transfer_status",
    "cancel_sub_case_transport",
    "cancel_transfer",
    "dispatch_mode",
    "dispatch_transport",
    "handle_transfer_update",
    "is_late_cancellation",
    "pickup_deadline",
    "plan_rides",
    "select_vendor",
    "transfer_urn_for",
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


# --------------------------------------------------------------------------- the service

#: cancelling inside this window before pickup is late (the vendor may charge a fee)
FREE_CANCELLATION = timedelta(minutes=15)

#: transfers still running (neither finished nor given up)
LIVE_TRANSFER = frozenset(
    {TransferStatus.REQUESTED, TransferStatus.DISPATCHED, TransferStatus.IN_PROGRESS}
)

_BOTH = (TransferDirection.AIRPORT_TO_HOTEL, TransferDirection.HOTEL_TO_AIRPORT)


def transfer_urn_for(reservation_urn: Urn, direction: TransferDirection, seq: int = 0) -> Urn:
    """The URN of a reservation's ride in ``direction`` (``seq`` counts rides given up).

    Deterministic: a retried dispatch names the same transfer, and vendors replay by it.
    """
    key = idempotency_key("transfer", f"{without_status(reservation_urn)}/{direction.value}/{seq}")
    return Urn("transfer", "t-" + key.split(":", 1)[1][:20])


@attrs.frozen
class TransportOutcome:
    """Rides recorded or dispatched for a sub-case, and review items raised."""

    transfers: tuple[Transfer, ...]
    reviews: tuple[ManualReviewItem, ...] = ()


async def _leg(
    deps: CareDeps, tenant: TenantContext, reservation: Reservation, direction: TransferDirection
) -> tuple[Transfer | None, int]:
    """The leg's live transfer (if any) and the sequence number a new one would take."""
    for seq in range(20):
        try:
            t = await deps.store.transfers.get(
                tenant, transfer_urn_for(reservation.urn, direction, seq)
            )
        except NotFoundError:
            return None, seq
        if t.status in LIVE_TRANSFER or t.status is TransferStatus.COMPLETED:
            return t, seq
    raise ConflictError(f"{reservation.urn}: too many rides given up", urn=str(reservation.urn))


def _review_urn(sub_case: SubCase, direction: TransferDirection, seq: int) -> Urn:
    key = idempotency_key(
        "transfer", f"review/{without_status(sub_case.urn)}/{direction.value}/{seq}"
    )
    return Urn("review", "rv-" + key.split(":", 1)[1][:20])


async def _candidates(
    deps: CareDeps,
    request: TransferRequest,
    iata: str,
    vendors: Sequence[TransportVendor],
) -> list[VendorCandidate]:
    """Each vendor's answer (quotes go through the gate); cheapest available first."""
    out: list[tuple[int, VendorCandidate]] = []
    for index, vendor in enumerate(vendors):
        covers = vendor.covers(iata)
        quote = None
        if covers and await deps.allowed(vendor.name):
            try:
                quote = await deps.call(
                    vendor.name, "transport", functools.partial(vendor.provider.quote, request)
                )
            except ProviderError:
                quote = None  # a vendor that cannot quote cannot take the ride
        out.append(
            (
                index,
                VendorCandidate(
                    vendor=vendor.name,
                    covers=covers,
                    max_passengers=vendor.max_passengers,
                    available=quote is not None and quote.available,
                    price=quote.price if quote is not None else None,
                ),
            )
        )

    def order(item: tuple[int, VendorCandidate]) -> tuple[bool, object, int]:
        c = item[1]
        return (not (c.covers and c.available), c.price.amount if c.price else 0, item[0])

    return [c for _, c in sorted(out, key=order)]


async def dispatch_transport(
    deps: CareDeps,
    tenant: TenantContext,
    sub_case: SubCase,
    reservation: Reservation,
    instructions: CareInstructions,
    *,
    mode: DispatchMode,
    directions: Sequence[TransferDirection] = _BOTH,
    vendor: str | None = None,
    note: str | None = None,
    final_attempt: bool = True,
) -> TransportOutcome:
    """Dispatch the group's rides (airport → hotel now, hotel → airport for the next
    departure) with the vendor that passes coverage → capacity → cost ceiling → pinning
    (cheapest qualifying first; ``vendor`` = an operator's pick, checked for coverage and
    capacity only).

    Each leg is recorded (REQUESTED, vendor chosen) before the vendor is called and its
    URN is the vendor's reference, so a repeat never books twice or switches vendors; a
    leg already live is left alone. A refusal tries the next qualifying vendor; no
    vendor (or a group larger than a shuttle) → the leg FAILS with a TRANSPORT_FAILED
    review item. A transient failure raises (the caller retries) unless it is the
    ``final_attempt``, which fails the leg the same way.
    """
    now = deps.clock.now()
    tier = sub_case.group.tier
    rules = instructions.transport_rules(tier)
    if vendor is not None:  # the operator's pick: keep coverage and capacity, waive the rest
        rules = attrs.evolve(rules, cost_ceiling={}, vendor_pinning={})
        pool: Sequence[TransportVendor] = (deps.vendor(vendor),)
    else:
        pool = deps.transport
    hotel = (reservation.hotel_latitude or 0.0, reservation.hotel_longitude or 0.0)
    airport = instructions.pickup
    reviews: list[ManualReviewItem] = []
    kept: list[Transfer] = []
    to_record: list[tuple[Transfer, list[VendorCandidate], TransferRequest, int]] = []
    for direction in directions:
        live, seq = await _leg(deps, tenant, reservation, direction)
        if live is not None and live.status is not TransferStatus.REQUESTED:
            kept.append(live)  # dispatched earlier: nothing to do
            continue
        demand = _demand(sub_case, reservation, direction, rules, now)
        if demand is None:
            continue  # no departure known: no ride back yet
        plan = plan_rides([demand], rules)
        urn = live.urn if live is not None else transfer_urn_for(reservation.urn, direction, seq)
        if plan.unplaced:
            failed, review = await _give_up(
                deps, tenant, sub_case, live, None, direction, seq, plan.unplaced[0][1]
            )
            reviews.append(review)
            kept.extend([failed] if failed is not None else [])
            continue
        run = plan.runs[0]
        request = TransferRequest(
            airline_urn=tenant.airline_urn,
            transfer_urn=urn,
            direction=direction,
            vehicle=run.vehicle,
            pickup_at=run.pickup_at,
            passengers=run.passengers,
            pickup=hotel if direction is TransferDirection.HOTEL_TO_AIRPORT else airport,
            dropoff=airport if direction is TransferDirection.HOTEL_TO_AIRPORT else hotel,
            lead_name=sub_case.group.lead.contact.name,
        )
        if live is not None and live.vendor is not None:  # chosen before a crash: keep it
            qualifying = [VendorCandidate(live.vendor, True, sub_case.group.size, True, live.price)]
        else:
            candidates = await _candidates(deps, request, instructions.airport, pool)
            qualifying = _qualifying(candidates, run.passengers, tier, instructions.airport, rules)
            if not qualifying:
                why = select_vendor(
                    candidates,
                    passengers=run.passengers,
                    tier=tier,
                    route=instructions.airport,
                    rules=rules,
                ).rejected
                reason = "no transport vendor satisfies coverage, capacity, cost and pinning" + (
                    f" ({', '.join(f'{v}: {r}' for v, r in why)})" if why else " (none configured)"
                )
                failed, review = await _give_up(
                    deps, tenant, sub_case, live, request, direction, seq, reason, mode=mode
                )
                reviews.append(review)
                kept.extend([failed] if failed is not None else [])
                continue
        first = qualifying[0]
        transfer = live or Transfer(
            urn=urn,
            airline_urn=tenant.airline_urn,
            case_urn=without_status(sub_case.case_urn),
            sub_case_urns=(without_status(sub_case.urn),),
            direction=direction,
            vehicle=run.vehicle,
            pickup_at=run.pickup_at,
            passengers=run.passengers,
            vendor=first.vendor,
            price=first.price,
            mode=mode,
            instructions=note,
        )
        to_record.append((transfer, qualifying, request, seq))
    new = [t for t, _, _, _ in to_record if t.version == 0]
    if new:
        async with deps.store.transaction() as tx:
            stored = [await tx.transfers.add(tenant, t) for t in new]
            for t in stored:
                await tx.audit.append(
                    tenant,
                    audit_entry(
                        deps,
                        tenant,
                        "transfer.requested",
                        t.urn,
                        f"{t.mode.value if t.mode else mode.value}: {t.vendor} chosen",
                        {},
                        {
                            "status": t.status.value,
                            "vendor": t.vendor,
                            "direction": t.direction.value,
                            "price": str(t.price),
                        },
                    ),
                )
        by_urn = {t.urn: t for t in stored}
        to_record = [(by_urn.get(t.urn, t), q, r, n) for t, q, r, n in to_record]
    dispatched: list[Transfer] = []
    pending = False
    for transfer, qualifying, request, seq in to_record:
        result, refused, retry = await _dispatch_leg(
            deps, tenant, sub_case, transfer, qualifying, request, seq, final_attempt=final_attempt
        )
        pending = pending or retry
        dispatched.append(result)
        if refused is not None:
            reviews.append(refused)
    if pending:
        raise TransientProviderError(
            f"transport for group {sub_case.group.group_id} will be retried", retryable=True
        )
    return TransportOutcome((*kept, *dispatched), tuple(reviews))


def _demand(
    sub_case: SubCase,
    reservation: Reservation,
    direction: TransferDirection,
    rules: TransportRules,
    now: datetime,
) -> RideDemand | None:
    group = sub_case.group
    if direction is TransferDirection.AIRPORT_TO_HOTEL:
        stay = sub_case.stay_plan
        ready = now if stay is None else max(now, stay.check_in - DEFAULT_PICKUP_WINDOW)
        return RideDemand.to_hotel(
            sub_case_urn=without_status(sub_case.urn),
            group_id=group.group_id,
            pnr=group.pnr_urn.id,
            hotel_urn=reservation.hotel_urn,
            passengers=group.size,
            tier=group.tier,
            ready_at=ready,
        )
    if sub_case.next_departure is None:
        return None
    return RideDemand.to_airport(
        sub_case_urn=without_status(sub_case.urn),
        group_id=group.group_id,
        pnr=group.pnr_urn.id,
        hotel_urn=reservation.hotel_urn,
        passengers=group.size,
        tier=group.tier,
        departure=sub_case.next_departure,
        rules=rules,
    )


def _qualifying(
    candidates: Sequence[VendorCandidate],
    passengers: int,
    tier: Tier,
    route: str,
    rules: TransportRules,
) -> list[VendorCandidate]:
    """Every candidate that passes the four rules, in the order selection tries them."""
    left = list(candidates)
    out: list[VendorCandidate] = []
    while left:
        choice = select_vendor(left, passengers=passengers, tier=tier, route=route, rules=rules)
        if choice.vendor is None:
            break
        pick = next(c for c in left if c.vendor == choice.vendor)
        out.append(pick)
        left.remove(pick)
    return out


async def _give_up(
    deps: CareDeps,
    tenant: TenantContext,
    sub_case: SubCase,
    live: Transfer | None,
    request: TransferRequest | None,
    direction: TransferDirection,
    seq: int,
    reason: str,
    *,
    mode: DispatchMode | None = None,
) -> tuple[Transfer | None, ManualReviewItem]:
    """Record the leg as FAILED (when it has a record or a request) and raise the review."""
    async with deps.store.transaction() as tx:
        if live is not None:
            failed = await tx.transfers.update(
                tenant, apply_transfer_status(live, TransferStatus.FAILED)
            )
        elif request is not None:
            failed = await tx.transfers.add(
                tenant,
                Transfer(
                    urn=request.transfer_urn,
                    airline_urn=tenant.airline_urn,
                    case_urn=without_status(sub_case.case_urn),
                    sub_case_urns=(without_status(sub_case.urn),),
                    direction=direction,
                    vehicle=request.vehicle,
                    pickup_at=request.pickup_at,
                    passengers=request.passengers,
                    status=TransferStatus.FAILED,
                    mode=mode,
                ),
            )
        else:
            failed = None
        if failed is not None:
            await tx.audit.append(
                tenant,
                audit_entry(
                    deps,
                    tenant,
                    "transfer.failed",
                    failed.urn,
                    reason,
                    {},
                    {"status": TransferStatus.FAILED.value},
                ),
            )
        review = await open_review(
            deps,
            tx,
            tenant,
            _review_urn(sub_case, direction, seq),
            without_status(sub_case.case_urn),
            ReviewCategory.TRANSPORT_FAILED,
            f"{direction.value} for group {sub_case.group.group_id}: {reason}",
            [sub_case.group.group_id],
        )
    return failed, review


async def _dispatch_leg(
    deps: CareDeps,
    tenant: TenantContext,
    sub_case: SubCase,
    transfer: Transfer,
    qualifying: Sequence[VendorCandidate],
    request: TransferRequest,
    seq: int,
    *,
    final_attempt: bool,
) -> tuple[Transfer, ManualReviewItem | None, bool]:
    """Call the chosen vendor (then the next qualifying one on a refusal)."""
    refusals: list[str] = []
    for candidate in qualifying:
        vendor = deps.vendor(candidate.vendor)
        if transfer.vendor != vendor.name:  # the previous vendor refused: record the switch
            transfer = await deps.store.transfers.update(
                tenant, attrs.evolve(transfer, vendor=vendor.name, price=candidate.price)
            )
        try:
            done = await deps.call(
                vendor.name, "transport", functools.partial(vendor.provider.dispatch, request)
            )
        except PermanentProviderError as exc:
            refusals.append(f"{vendor.name}: {' '.join(str(exc).split())}")
            continue
        except TransientProviderError as exc:
            if not final_attempt:
                return transfer, None, True
            refusals.append(f"{vendor.name}: {' '.join(str(exc).split())}")
            break
        async with deps.store.transaction() as tx:
            current = await tx.transfers.get(tenant, transfer.urn)
            updated = await tx.transfers.update(
                tenant,
                attrs.evolve(
                    apply_transfer_status(current, TransferStatus.DISPATCHED),
                    vendor_ref=done.vendor_ref,
                    eta_minutes=done.eta_minutes,
                ),
            )
            await tx.audit.append(
                tenant,
                audit_entry(
                    deps,
                    tenant,
                    "transfer.dispatched",
                    transfer.urn,
                    f"dispatched to {vendor.name} ({(transfer.mode or DispatchMode.AUTOMATIC).value})",
                    {"status": current.status.value},
                    {
                        "status": TransferStatus.DISPATCHED.value,
                        "vendor": vendor.name,
                        "vendor_ref": done.vendor_ref,
                        "eta_minutes": done.eta_minutes,
                    },
                ),
            )
            await tx.outbox.append(
                tenant,
                domain_event(
                    deps,
                    tenant,
                    "transport.dispatched",
                    transfer.urn,
                    {"sub_case": str(without_status(sub_case.urn)), "vendor": vendor.name},
                    key=str(transfer.urn),
                ),
            )
        return updated, None, False
    current = await deps.store.transfers.get(tenant, transfer.urn)
    failed, review = await _give_up(
        deps,
        tenant,
        sub_case,
        current,
        request,
        transfer.direction,
        seq,
        "every qualifying vendor refused: " + "; ".join(refusals),
    )
    return failed or current, review, False


@attrs.frozen
class TransferUpdateOutcome:
    """A vendor webhook applied to a transfer (``changed`` False for a redelivery)."""

    transfer: Transfer
    changed: bool


async def handle_transfer_update(
    deps: CareDeps,
    tenant: TenantContext,
    transfer_urn: Urn,
    status: TransferStatus,
    *,
    vendor: str,
    event_id: str,
    eta_minutes: int | None = None,
) -> TransferUpdateOutcome:
    """Apply a verified vendor state webhook to the transfer's lifecycle.

    Redeliveries of ``(vendor, event_id)`` change nothing; an unknown transfer or
    another tenant's is NotFoundError, another vendor's ride a WebhookVerificationError
    and a move the lifecycle forbids an IllegalTransitionError — each with nothing
    changed. The change is audited on the case's timeline, published as
    ``transport.updated`` and shown on the riders' passenger pages.
    """
    store = deps.store
    current = await store.transfers.get(tenant, transfer_urn)
    tenant = await on_case_timeline(store, tenant, current.case_urn)
    if current.vendor is not None and current.vendor != vendor:
        raise WebhookVerificationError(
            f"{vendor} webhook names {transfer_urn}, which {current.vendor or 'no vendor'} drives",
            vendor=vendor,
        )
    key = idempotency_key("webhook", f"{vendor}/{event_id}")
    if await store.idempotency.lookup(tenant, "webhook", key) is not None:
        return TransferUpdateOutcome(current, False)
    apply_transfer_status(current, status)  # refuse an illegal move before recording anything
    async with store.transaction() as tx:
        claim = await tx.idempotency.remember(tenant, "webhook", key, {"status": status.value})
        current = await tx.transfers.get(tenant, transfer_urn)
        if claim.replayed:
            return TransferUpdateOutcome(current, False)
        nxt = apply_transfer_status(current, status)
        if eta_minutes is not None:
            nxt = attrs.evolve(nxt, eta_minutes=eta_minutes)
        if nxt == current:
            return TransferUpdateOutcome(current, False)
        updated = await tx.transfers.update(tenant, nxt)
        await tx.audit.append(
            tenant,
            audit_entry(
                deps,
                tenant,
                "transfer.status",
                transfer_urn,
                f"{vendor} webhook {event_id}",
                {"status": current.status.value},
                {"status": status.value},
            ),
        )
        await tx.outbox.append(
            tenant,
            domain_event(
                deps,
                tenant,
                "transport.updated",
                transfer_urn,
                {"status": status.value, "sub_cases": [str(u) for u in current.sub_case_urns]},
                key=key,
            ),
        )
    for rider in updated.sub_case_urns:  # the passenger page shows the ride's status
        await refresh_document(deps, tenant, rider)
    return TransferUpdateOutcome(updated, True)


async def cancel_transfer(
    deps: CareDeps,
    tenant: TenantContext,
    transfer: Transfer,
    *,
    reason: str,
    free_cancellation: timedelta = FREE_CANCELLATION,
) -> Transfer:
    """Cancel a ride at its vendor and record any late-cancellation fee.

    Cancelling inside ``free_cancellation`` before pickup is late (audited, with the
    vendor's fee); a vendor that refuses the cancellation (past its deadline) does not
    block: the ride is recorded cancelled and late. A transient vendor error raises.
    """
    if transfer.status not in LIVE_TRANSFER:
        return transfer
    late = is_late_cancellation(transfer, deps.clock.now(), free_cancellation)
    fee: Money | None = None
    refused: str | None = None
    if transfer.vendor is not None:
        vendor = deps.vendor(transfer.vendor)
        try:
            fee = await deps.call(
                vendor.name,
                "cancel",
                functools.partial(vendor.provider.cancel, tenant.airline_urn, transfer.urn),
            )
        except NotFoundError:
            fee = None  # the vendor never dispatched it (a crash before the call)
        except PermanentProviderError as exc:
            refused = " ".join(str(exc).split())
            late = True
    async with deps.store.transaction() as tx:
        current = await tx.transfers.get(tenant, transfer.urn)
        if current.status not in LIVE_TRANSFER:
            return current
        if current.status is TransferStatus.IN_PROGRESS:  # the lifecycle cannot cancel a ride
            return current  # under way; the vendor's refusal or fee is all that applies
        updated = await tx.transfers.update(
            tenant,
            attrs.evolve(
                apply_transfer_status(current, TransferStatus.CANCELLED),
                no_show_fee=fee,
                late_cancellation=late,
            ),
        )
        note = reason
        if late:
            note += " (transport cancellation incurred fee)" if fee else " (late cancellation)"
        if refused:
            note += f"; vendor refused the cancellation: {refused}"
        await tx.audit.append(
            tenant,
            audit_entry(
                deps,
                tenant,
                "transfer.cancelled",
                transfer.urn,
                note,
                {"status": current.status.value},
                {
                    "status": "CANCELLED",
                    "late": late,
                    "no_show_fee": str(fee) if fee is not None else None,
                },
            ),
        )
        await tx.outbox.append(
            tenant,
            domain_event(
                deps,
                tenant,
                "transport.updated",
                transfer.urn,
                {"status": "CANCELLED", "late": late, "fee": str(fee) if fee else None},
            ),
        )
    return updated


async def cancel_sub_case_transport(
    deps: CareDeps,
    tenant: TenantContext,
    sub_case: SubCase,
    *,
    reason: str,
    transfers: Sequence[Transfer] | None = None,
) -> list[Transfer]:
    """Undo a sub-case's rides after its booking is cancelled (saga compensation).

    A ride carrying only this group is cancelled at the vendor; a shared shuttle keeps
    running with the group's seats released. ``transfers`` skips the store read.
    """
    mine = without_status(sub_case.urn)
    if transfers is None:
        transfers = await deps.store.transfers.find(tenant, case_urn=sub_case.case_urn)
    out: list[Transfer] = []
    for t in transfers:
        bases = [without_status(u) for u in t.sub_case_urns]
        if mine not in bases or t.status not in LIVE_TRANSFER:
            continue
        if len(bases) == 1:
            out.append(await cancel_transfer(deps, tenant, t, reason=reason))
            continue
        keep = tuple(u for u in t.sub_case_urns if without_status(u) != mine)
        async with deps.store.transaction() as tx:
            updated = await tx.transfers.update(
                tenant,
                attrs.evolve(
                    t, sub_case_urns=keep, passengers=max(1, t.passengers - sub_case.group.size)
                ),
            )
            await tx.audit.append(
                tenant,
                audit_entry(
                    deps,
                    tenant,
                    "transfer.seats-released",
                    t.urn,
                    reason,
                    {"passengers": t.passengers},
                    {"released_group": sub_case.group.group_id, "passengers": updated.passengers},
                ),
            )
        out.append(updated)
    return out
