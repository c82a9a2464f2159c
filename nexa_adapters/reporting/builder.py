"""Build a :class:`CaseReport` by reading a case through the ``OperationalStore`` port only.

Reads: the case, its sub-cases, reservations, review items and allocation waves (each
``find(tenant, case_urn=…)``), and the audit log. The stage-over-time series comes from
audit entries about the case's sub-cases whose ``after`` mapping has a ``status`` key
(``before["status"]`` gives the state a sub-case started in); entries of any other shape
are ignored, so the report works with whatever the pipeline audits.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from nexa_adapters.reporting.model import (
    CareFigures,
    CaseReport,
    ChannelFigures,
    HotelAllocation,
    MoneyTotal,
    PolicySummary,
    ProviderSummary,
    ReservationStatusSummary,
    ReviewCategorySummary,
    StagePoint,
    StatusChange,
    TierRow,
    WaveSummary,
)
from nexa_core.errors import InvalidInputError, NotFoundError
from nexa_core.model import (
    CATEGORY_PRIORITY,
    AuditEntry,
    CardStatus,
    Case,
    IssuedCard,
    ManualReviewItem,
    Notification,
    NotificationStatus,
    Reservation,
    ReservationStatus,
    ReviewCategory,
    ReviewState,
    SubCase,
    SubCaseStatus,
    Transfer,
)
from nexa_core.ports import AuditQuery, Clock
from nexa_core.tenancy import TenantContext
from nexa_core.urn import Urn, without_status

__all__ = [
    "LIVE_RESERVATION_STATUSES",
    "MAX_STAGE_POINTS",
    "build_case_report",
    "care_figures",
    "plan_figures",
]

#: the stage chart keeps at most this many time points (evenly spaced, last state per slot)
MAX_STAGE_POINTS = 120

#: reservations that count in the allocation table (cancelled and failed ones do not)
LIVE_RESERVATION_STATUSES = frozenset({ReservationStatus.PENDING, ReservationStatus.CONFIRMED})


def _key(urn: Urn) -> str:
    return str(without_status(urn))


def _status_text(value: Any) -> str | None:
    if value is None:
        return None
    text = getattr(value, "value", value)
    return str(text).upper() if str(text) else None


def _airport_name(iata: str) -> str:
    try:
        from nexa_adapters.airports import default_catalog

        return default_catalog().get(iata).name
    except Exception:  # the catalog is a nicety: an unknown code still gets a report
        return iata


def _timeline(entries: Iterable[AuditEntry]) -> tuple[StatusChange, ...]:
    out = []
    for e in entries:
        after = _status_text(e.after.get("status")) if isinstance(e.after, Mapping) else None
        if after is None:
            continue
        before = _status_text(e.before.get("status")) if isinstance(e.before, Mapping) else None
        out.append(StatusChange(e.at, before, after, e.action, e.actor.role))
    return tuple(out)


def _allocation(
    reservations: Sequence[Reservation], sizes: Mapping[str, int]
) -> tuple[tuple[HotelAllocation, ...], tuple[MoneyTotal, ...]]:
    rows: dict[tuple[str, str], list[Reservation]] = defaultdict(list)
    for r in reservations:
        if r.status in LIVE_RESERVATION_STATUSES:
            rows[(_key(r.hotel_urn), r.total.currency)].append(r)
    allocation = []
    for (_, currency), rs in rows.items():
        nights = [max((r.check_out - r.check_in).days, 0) for r in rs]
        groups = {_key(r.sub_case_urn) for r in rs}
        allocation.append(
            HotelAllocation(
                hotel_urn=without_status(rs[0].hotel_urn),
                hotel_name=rs[0].hotel_name,
                vendor=rs[0].hotel_urn.vendor or "direct",
                groups=len(groups),
                passengers=sum(sizes.get(g, 0) for g in groups),
                rooms=sum(len(r.rooms) for r in rs),
                nights_min=min(nights),
                nights_max=max(nights),
                room_nights=sum(len(r.rooms) * n for r, n in zip(rs, nights, strict=True)),
                cost=sum((r.total.amount for r in rs), Decimal(0)),
                currency=currency,
            )
        )
    allocation.sort(key=lambda a: (-a.passengers, a.hotel_name, str(a.hotel_urn), a.currency))
    totals = []
    for currency in sorted({a.currency for a in allocation}):
        mine = [a for a in allocation if a.currency == currency]
        totals.append(
            MoneyTotal(
                currency=currency,
                hotels=len({_key(a.hotel_urn) for a in mine}),
                groups=sum(a.groups for a in mine),
                passengers=sum(a.passengers for a in mine),
                rooms=sum(a.rooms for a in mine),
                room_nights=sum(a.room_nights for a in mine),
                cost=sum((a.cost for a in mine), Decimal(0)),
            )
        )
    return tuple(allocation), tuple(totals)


def _by_status(reservations: Sequence[Reservation]) -> tuple[ReservationStatusSummary, ...]:
    out = []
    for status in ReservationStatus:
        rs = [r for r in reservations if r.status is status]
        if not rs:
            continue
        costs: dict[str, Decimal] = defaultdict(Decimal)
        for r in rs:
            if status in LIVE_RESERVATION_STATUSES:  # a failed or cancelled room costs nothing
                costs[r.total.currency] += r.total.amount
        out.append(
            ReservationStatusSummary(
                status=status.value,
                reservations=len(rs),
                rooms=sum(len(r.rooms) for r in rs),
                costs=tuple(sorted(costs.items())),
            )
        )
    return tuple(out)


def _reviews(items: Sequence[ManualReviewItem]) -> tuple[ReviewCategorySummary, ...]:
    out = []
    for category in ReviewCategory:
        mine = [i for i in items if i.category is category]
        if not mine:
            continue
        states = Counter(i.state for i in mine)
        out.append(
            ReviewCategorySummary(
                category=category.value,
                priority=CATEGORY_PRIORITY[category].value,
                open=states[ReviewState.OPEN],
                claimed=states[ReviewState.CLAIMED],
                resolved=states[ReviewState.RESOLVED],
                affected_groups=len({g for i in mine for g in i.affected_groups}),
            )
        )
    return tuple(out)


def _pairs(values: Mapping[str, Decimal]) -> tuple[tuple[str, Decimal], ...]:
    return tuple(sorted((k, v.quantize(Decimal("0.01"))) for k, v in values.items()))


_REACHED = frozenset({NotificationStatus.SENT, NotificationStatus.DELIVERED})


def care_figures(
    notifications: Sequence[Notification],
    cards: Sequence[IssuedCard],
    transfers: Sequence[Transfer],
) -> CareFigures:
    """Care delivered: vouchers issued, messages per channel, cards and drops, rides."""
    per: dict[str, dict[str, int]] = defaultdict(
        lambda: {"sent": 0, "failed": 0, "fallback": 0, "queued": 0}
    )
    for n in notifications:
        row = per[n.channel.value]
        if n.fallback_for is not None:
            row["fallback"] += 1
        if n.status in _REACHED:
            row["sent"] += 1
        elif n.status is NotificationStatus.QUEUED:
            row["queued"] += 1
        else:
            row["failed"] += 1
    vouchers = {
        str(without_status(n.reservation_urn))
        for n in notifications
        if n.type == "voucher.issued" and n.status in _REACHED and n.reservation_urn is not None
    }
    live = [c for c in cards if c.status is not CardStatus.CANCELLED]
    loaded: dict[str, Decimal] = defaultdict(Decimal)
    planned: dict[str, Decimal] = defaultdict(Decimal)
    for c in live:
        loaded[c.currency] += c.loaded.amount
        planned[c.currency] += c.planned.amount
    drops = [d for c in live for d in c.drops]
    fees: dict[str, Decimal] = defaultdict(Decimal)
    for t in transfers:
        if t.no_show_fee is not None:
            fees[t.no_show_fee.currency] += t.no_show_fee.amount
    return CareFigures(
        vouchers_issued=len(vouchers),
        channels=tuple(ChannelFigures(ch, **per[ch]) for ch in sorted(per)),
        cards_issued=len(live),
        loaded=_pairs(loaded),
        planned=_pairs(planned),
        drops_loaded=sum(1 for d in drops if d.loaded_at is not None),
        drops_scheduled=sum(1 for d in drops if d.loaded_at is None),
        transfers=tuple(sorted(Counter(t.status.value for t in transfers).items())),
        transfers_by_vendor=tuple(sorted(Counter(t.vendor or "-" for t in transfers).items())),
        late_cancellation_fees=_pairs(fees),
    )


def plan_figures(
    plans: Iterable[Mapping[str, Any]],
) -> tuple[tuple[tuple[str, Decimal], ...], Decimal | None]:
    """The planned room cost per currency and the savings vs market, over every wave.

    Savings are summed over the waves whose plan stated a market reference (negative
    when rooms were bought above it); None when no wave had one.
    """
    planned: dict[str, Decimal] = defaultdict(Decimal)
    savings: Decimal | None = None
    for plan in plans:
        totals = plan.get("totals") if isinstance(plan, Mapping) else None
        if not isinstance(totals, Mapping):
            continue
        if totals.get("room_cost") is not None:
            planned[str(totals.get("currency", "USD"))] += Decimal(str(totals["room_cost"]))
        if totals.get("savings_vs_market") is not None:
            savings = (savings or Decimal(0)) + Decimal(str(totals["savings_vs_market"]))
    return _pairs(planned), savings


def _tiers(
    sub_cases: Sequence[SubCase], reservations: Sequence[Reservation]
) -> tuple[TierRow, ...]:
    live = {_key(r.sub_case_urn): r for r in reservations if r.status in LIVE_RESERVATION_STATUSES}
    rows: dict[str, dict[str, Any]] = defaultdict(
        lambda: {"passengers": 0, "accommodated": 0, "no_hotel_needed": 0, "costs": {}}
    )
    for s in sub_cases:
        row = rows[s.group.tier.value]
        row["passengers"] += s.group.size
        r = live.get(_key(s.urn))
        if r is not None:
            row["accommodated"] += s.group.size
            if r.status is ReservationStatus.CONFIRMED:
                costs = row["costs"]
                costs[r.total.currency] = costs.get(r.total.currency, Decimal(0)) + r.total.amount
        elif s.stay_plan is not None and s.stay_plan.local_resident:
            row["no_hotel_needed"] += s.group.size
    return tuple(
        TierRow(
            tier,
            row["passengers"],
            row["accommodated"],
            row["no_hotel_needed"],
            _pairs(row["costs"]),
        )
        for tier, row in sorted(rows.items())
    )


def _scalar_totals(plan: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    totals = plan.get("totals") if isinstance(plan, Mapping) else None
    if not isinstance(totals, Mapping):
        return ()
    return tuple(
        (str(k), str(v))
        for k, v in sorted(totals.items(), key=lambda kv: str(kv[0]))
        if isinstance(v, str | int | float | Decimal) and not isinstance(v, bool)
    )


def _search(plan: Mapping[str, Any]) -> tuple[ProviderSummary, ...]:
    search = plan.get("search") if isinstance(plan, Mapping) else None
    if not isinstance(search, Mapping):
        return ()
    out = []
    for p in search.get("providers") or ():
        if isinstance(p, Mapping):
            out.append(
                ProviderSummary(
                    str(p.get("provider", "?")),
                    str(p.get("outcome", "?")),
                    int(p.get("offers") or 0),
                    int(p.get("kept") or 0),
                    float(p.get("elapsed_s") or 0.0),
                )
            )
    return tuple(out)


async def _policy(store: Any, tenant: TenantContext, case: Case) -> PolicySummary | None:
    if case.policy_urn is None:
        return None
    try:
        record = await store.policies.get(tenant, case.policy_urn)
    except NotFoundError:  # the version was removed: still name it
        return PolicySummary(case.policy_urn, "?", 0, "MISSING")
    return PolicySummary(record.urn, record.name, record.number, record.state.value)


def _stage_series(
    sub_cases: Sequence[SubCase], entries: Iterable[AuditEntry]
) -> tuple[tuple[str, ...], tuple[StagePoint, ...]]:
    """Counts of sub-cases per status after each audited sub-case transition."""
    known = {_key(s.urn): s for s in sub_cases}
    changes: list[tuple[datetime, str, str | None, str]] = []
    for e in entries:
        key = _key(e.entity_urn)
        if key not in known or not isinstance(e.after, Mapping):
            continue
        after = _status_text(e.after.get("status"))
        if after is None:
            continue
        before = _status_text(e.before.get("status")) if isinstance(e.before, Mapping) else None
        changes.append((e.at, key, before, after))
    changes.sort(key=lambda c: c[0])
    first_before: dict[str, str | None] = {}
    for _, key, before, _ in changes:
        first_before.setdefault(key, before)
    state: dict[str, str] = {}
    for key, sc in known.items():
        if key not in first_before:
            state[key] = sc.status.value  # never audited: it has been in this state throughout
        else:
            state[key] = first_before[key] or SubCaseStatus.PENDING.value
    order = [s.value for s in SubCaseStatus]
    seen = set(state.values()) | {c[3] for c in changes}
    stages = tuple([s for s in order if s in seen] + sorted(seen - set(order)))
    if not changes:
        return stages, ()
    counts = Counter(state.values())

    def snapshot(at: datetime) -> StagePoint:
        return StagePoint(at, {k: v for k, v in counts.items() if v})

    points: list[StagePoint] = [snapshot(changes[0][0])]
    i = 0
    while i < len(changes):
        at = changes[i][0]
        while i < len(changes) and changes[i][0] == at:
            _, key, _, after = changes[i]
            counts[state[key]] -= 1
            counts[after] += 1
            state[key] = after
            i += 1
        points.append(snapshot(at))
    return stages, _downsample(points)


def _downsample(points: list[StagePoint]) -> tuple[StagePoint, ...]:
    if len(points) <= MAX_STAGE_POINTS:
        return tuple(points)
    start, end = points[0].at, points[-1].at
    span = (end - start).total_seconds() or 1.0
    slots: dict[int, StagePoint] = {}
    for p in points:
        slot = int((p.at - start).total_seconds() / span * (MAX_STAGE_POINTS - 2))
        slots[slot] = p  # the last state within the slot wins
    kept = [points[0], *(slots[k] for k in sorted(slots))]
    unique: list[StagePoint] = []
    for p in kept:
        if not unique or unique[-1] is not p:
            unique.append(p)
    return tuple(unique)


async def build_case_report(
    store: Any, tenant: TenantContext, case_urn: Urn | str, *, clock: Clock | None = None
) -> CaseReport:
    """Read one case of ``tenant`` through the store port and summarise it.

    Raises :class:`~nexa_core.errors.InvalidUrnError` for a malformed URN,
    :class:`~nexa_core.errors.InvalidInputError` when it is not a case URN and
    :class:`~nexa_core.errors.NotFoundError` for an unknown case or another tenant's.
    Nothing is written.
    """
    urn = Urn.parse(case_urn) if isinstance(case_urn, str) else case_urn
    if not urn.is_a("case"):
        raise InvalidInputError(f"{urn} is not a case URN", field="case_urn", urn=str(urn))
    case: Case = await store.cases.get(tenant, urn)
    sub_cases: list[SubCase] = await store.sub_cases.find(tenant, case_urn=case.urn)
    reservations: list[Reservation] = await store.reservations.find(tenant, case_urn=case.urn)
    reviews: list[ManualReviewItem] = await store.reviews.find(tenant, case_urn=case.urn)
    waves = await store.waves.find(tenant, case_urn=case.urn)
    care = care_figures(
        await store.notifications.find(tenant, case_urn=case.urn),
        await store.cards.find(tenant, case_urn=case.urn),
        await store.transfers.find(tenant, case_urn=case.urn),
    )
    planned, savings = plan_figures(w.plan for w in sorted(waves, key=lambda w: w.sequence))
    booked: dict[str, Decimal] = defaultdict(Decimal)
    for r in reservations:
        if r.status is ReservationStatus.CONFIRMED:
            booked[r.total.currency] += r.total.amount

    case_entries: list[AuditEntry] = await store.audit.query(
        tenant, AuditQuery(entity_urn=case.urn)
    )
    # sub-case entries: one tenant-wide read from the case's start, filtered by entity
    starts = [t for t in (case.created_at, *(e.at for e in case_entries[:1])) if t is not None]
    since = min(starts) if starts else None
    sub_keys = {_key(s.urn) for s in sub_cases}
    related_keys = sub_keys | {_key(r.urn) for r in reservations}
    sub_entries = [
        e
        for e in await store.audit.query(tenant, AuditQuery(since=since))
        if _key(e.entity_urn) in related_keys
    ]
    activity = [e.at for e in (*case_entries, *sub_entries)]

    sizes = {_key(s.urn): s.group.size for s in sub_cases}
    allocation, totals = _allocation(reservations, sizes)
    stages, series = _stage_series(
        sub_cases, (e for e in sub_entries if _key(e.entity_urn) in sub_keys)
    )
    status_counts = Counter(s.status.value for s in sub_cases)
    now = clock.now() if clock is not None else datetime.now(UTC)
    return CaseReport(
        case_urn=without_status(case.urn),
        airline_urn=case.airline_urn,
        airport=case.airport_urn.id,
        airport_name=_airport_name(case.airport_urn.id),
        flight_urn=case.flight.urn,
        flight_number=case.flight.number,
        flight_status=case.flight.status,
        origin=case.flight.origin.id,
        destination=case.flight.destination.id,
        status=case.status.value,
        disrupted_at=case.disrupted_at,
        next_departure=case.next_departure,
        created_at=case.created_at,
        updated_at=case.updated_at,
        first_activity=min(activity) if activity else None,
        last_activity=max(activity) if activity else None,
        generated_at=now,
        case_timeline=_timeline(case_entries),
        sub_cases=len(sub_cases),
        passengers=sum(sizes.values()),
        sub_cases_by_status=tuple(
            (s.value, status_counts[s.value]) for s in SubCaseStatus if status_counts[s.value]
        ),
        allocation=allocation,
        totals=totals,
        reservations_by_status=_by_status(reservations),
        reviews=_reviews(reviews),
        waves=tuple(
            WaveSummary(
                without_status(w.urn),
                w.sequence,
                w.demand_urn,
                w.created_at,
                _scalar_totals(w.plan),
                _search(w.plan),
                len(w.plan.get("violations") or ()) if isinstance(w.plan, Mapping) else 0,
            )
            for w in sorted(waves, key=lambda w: w.sequence)
        ),
        stages=stages,
        stage_series=series,
        policy=await _policy(store, tenant, case),
        booked_cost=_pairs(booked),
        planned_cost=planned,
        savings_vs_market=savings,
        tiers=_tiers(sub_cases, reservations),
        care=care,
    )
