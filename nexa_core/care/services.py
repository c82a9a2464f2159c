"""Care application services: notifications, meal cards, transport, passenger snapshot.

Async, over ports only (:class:`~nexa_core.care.context.CareDeps`). Every service is
safe to run again: notifications dedup per (group, type, channel, reservation), cards
per (case, group), loads per (card, drop), transfers per transfer URN, webhooks per
event URN. Failures that need a person become manual-review items; bounces and
failures are audited.

Passenger-side calls (:func:`accept_offer`, :func:`decline_offer`,
:func:`request_transport`) take a verified passenger :class:`~nexa_core.auth.Principal`
scoped to one case; a sub-case of another case (or tenant) is reported as not found.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import attrs

from nexa_core.auth import Principal, PrincipalKind, requires_passenger
from nexa_core.care.context import CareContext, CareDeps, RenderedMessage, TransportVendor
from nexa_core.care.meals import (
    CardEvent,
    CardEventKind,
    CardLedger,
    CardReconciliation,
    MealPlan,
    meal_plan,
)
from nexa_core.care.notifications import (
    FALLBACK,
    NotificationType,
    PlannedMessage,
    channel_address,
    choose_language,
    dedup_key,
    plan_group_messages,
    resend_key,
)
from nexa_core.care.snapshot import passenger_document
from nexa_core.care.transport import (
    RideDemand,
    VendorCandidate,
    apply_transfer_status,
    is_late_cancellation,
    plan_rides,
    select_vendor,
)
from nexa_core.care.voucher import VoucherContent, build_voucher
from nexa_core.errors import (
    ConcurrencyError,
    ConfigurationError,
    ConflictError,
    DuplicateError,
    InvalidInputError,
    NexaError,
    NotFoundError,
    PermanentProviderError,
    PermissionDeniedError,
    TransientProviderError,
)
from nexa_core.idempotency import idempotency_key
from nexa_core.model import (
    AuditEntry,
    CardStatus,
    Case,
    Channel,
    DispatchMode,
    IssuedCard,
    ManualReviewItem,
    Money,
    Notification,
    NotificationStatus,
    Reservation,
    ReservationStatus,
    ReviewCategory,
    ReviewState,
    SubCase,
    SubCaseStatus,
    Tier,
    Transfer,
    TransferDirection,
    TransferStatus,
)
from nexa_core.model.audit import Actor
from nexa_core.ports import (
    AuditQuery,
    CardIssued,
    CardIssueRequest,
    OperationalStore,
    OutboundMessage,
    TransferRequest,
)
from nexa_core.tenancy import TenantContext
from nexa_core.urn import Urn, without_status

__all__ = [
    "CompensationHook",
    "MealReconciliation",
    "NotificationOutcome",
    "NotificationReport",
    "TransportOutcome",
    "accept_offer",
    "cancel_transfer",
    "compensate_transport",
    "decline_offer",
    "handle_delivery_receipt",
    "handle_transfer_webhook",
    "issue_meal_cards",
    "load_due_meals",
    "passenger_tenant",
    "plan_and_dispatch_transport",
    "publish_passenger_snapshot",
    "reconcile_meal_cards",
    "record_card_event",
    "request_transport",
    "resend_notification",
    "run_notification_stage",
]

#: Called by :func:`decline_offer` to hand the sub-case to the saga's compensation.
CompensationHook = Callable[[TenantContext, SubCase], Awaitable[None]]

_TIERS = list(Tier)
#: settled messages: never sent again under the same key (FAILED comes from a receipt)
_DONE = (
    NotificationStatus.SENT,
    NotificationStatus.DELIVERED,
    NotificationStatus.BOUNCED,
    NotificationStatus.FAILED,
)


# --------------------------------------------------------------------------- helpers


async def _audit(
    deps: CareDeps,
    store: OperationalStore,
    tenant: TenantContext,
    action: str,
    entity: Urn,
    reason: str,
    after: Mapping[str, Any] | None = None,
    before: Mapping[str, Any] | None = None,
) -> None:
    await store.audit.append(
        tenant,
        AuditEntry(
            urn=deps.ids.new("audit"),
            airline_urn=tenant.airline_urn,
            actor=tenant.actor,
            action=action,
            entity_urn=without_status(entity),
            reason=reason,
            at=deps.clock.now(),
            correlation_urn=tenant.correlation_urn,
            before=dict(before or {}),
            after=dict(after or {}),
        ),
    )


async def _review(
    deps: CareDeps,
    store: OperationalStore,
    tenant: TenantContext,
    case_urn: Urn,
    category: ReviewCategory,
    reason: str,
    groups: Sequence[str],
) -> ManualReviewItem:
    """A review item, unless an open one already covers the same groups for that reason."""
    for open_item in await store.reviews.find(tenant, case_urn=case_urn, category=category):
        if open_item.state is not ReviewState.RESOLVED and set(open_item.affected_groups) == set(
            groups
        ):
            return open_item
    item = ManualReviewItem(
        urn=deps.ids.new("review"),
        airline_urn=tenant.airline_urn,
        case_urn=case_urn,
        category=category,
        reason=reason,
        affected_groups=tuple(groups),
        created_at=deps.clock.now(),
    )
    stored = await store.reviews.add(tenant, item)
    await _audit(
        deps,
        store,
        tenant,
        "review.created",
        stored.urn,
        reason,
        {"category": category.value, "groups": list(groups)},
    )
    return stored


def _confirmed(reservations: Sequence[Reservation], sub_case: SubCase) -> Reservation | None:
    mine = without_status(sub_case.urn)
    for r in reservations:
        if without_status(r.sub_case_urn) == mine and r.status is ReservationStatus.CONFIRMED:
            return r
    return None


def _departure(case: Case, sub_case: SubCase, context: CareContext) -> datetime | None:
    flight = context.flights.get(sub_case.group.group_id)
    if flight is not None:
        return flight.scheduled_departure
    return sub_case.next_departure or case.next_departure


def _voucher(
    case: Case,
    sub_case: SubCase,
    reservation: Reservation,
    transfers: Sequence[Transfer],
    context: CareContext,
) -> VoucherContent:
    hotel = context.hotel(reservation.hotel_urn)
    if hotel is None:
        raise InvalidInputError(
            f"no hotel data for {reservation.hotel_urn} in the care context", field="hotels"
        )
    live = tuple(
        t for t in transfers if t.status not in (TransferStatus.CANCELLED, TransferStatus.FAILED)
    )
    return build_voucher(
        reservation,
        sub_case,
        hotel,
        timezone=context.airport.timezone,
        flight=context.flights.get(sub_case.group.group_id),
        transfers=live,
        card_reference=context.card_references.get(without_status(reservation.urn)),
    )


# --------------------------------------------------------------------------- notifications


@attrs.frozen
class NotificationOutcome:
    """What happened to one planned message in this run."""

    dedup_key: str
    type: NotificationType
    channel: str
    status: str  # "sent" | "skipped" | "bounced" | "failed" | "fallback"
    notification_urn: Urn | None = None
    error: str | None = None


@attrs.frozen
class NotificationReport:
    """Everything one notification stage run did."""

    outcomes: tuple[NotificationOutcome, ...]

    def count(self, status: str) -> int:
        """How many outcomes have ``status``."""
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def sent(self) -> int:
        """Messages handed to a provider in this run."""
        return self.count("sent")

    @property
    def skipped(self) -> int:
        """Messages already sent by an earlier run."""
        return self.count("skipped")


@attrs.frozen
class _Job:
    message: PlannedMessage
    case_urn: Urn
    data: Mapping[str, Any]
    voucher: VoucherContent | None = None


def _base_data(case: Case, sub_case: SubCase | None, context: CareContext) -> dict[str, Any]:
    data: dict[str, Any] = {
        "case_urn": str(case.urn),
        "airport": context.airport,
        "disrupted_flight": case.flight,
        "next_departure": case.next_departure,
        "timezone": context.airport.timezone,
    }
    if sub_case is not None:
        data["sub_case_urn"] = str(sub_case.urn)
        data["group_id"] = sub_case.group.group_id
        data["pnr"] = sub_case.group.pnr_urn.id
        data["rebooked_flight"] = context.flights.get(sub_case.group.group_id)
        data["passenger_link"] = context.passenger_link(sub_case.urn)
    return data


async def _plan_case(
    deps: CareDeps, tenant: TenantContext, case_urn: Urn, context: CareContext
) -> tuple[list[_Job], list[NotificationOutcome]]:
    store = deps.store
    renderer = deps.renderer
    if renderer is None:
        raise ConfigurationError("the notification stage needs a message renderer")
    case = await store.cases.get(tenant, case_urn)
    sub_cases = await store.sub_cases.find(tenant, case_urn=case.urn)
    reservations = await store.reservations.find(tenant, case_urn=case.urn)
    cards = await store.cards.find(tenant, case_urn=case.urn)
    transfers = await store.transfers.find(tenant, case_urn=case.urn)
    airline = tenant.airline_urn.id
    languages = renderer.languages(airline)
    jobs: list[_Job] = []
    problems: list[NotificationOutcome] = []

    def plan(
        type: NotificationType,
        sub_case: SubCase,
        data: Mapping[str, Any],
        *,
        reservation: Urn | None = None,
        subject: str | None = None,
        voucher: VoucherContent | None = None,
    ) -> None:
        for m in plan_group_messages(
            type,
            sub_case.group,
            airport_language=context.airport.default_language,
            supported_languages=languages,
            reservation_urn=reservation,
            subject_key=subject,
            capabilities=context.capabilities,
        ):
            jobs.append(_Job(m, case.urn, data, voucher))

    for sc in sorted(sub_cases, key=lambda s: s.group.group_id):
        base = _base_data(case, sc, context)
        plan(NotificationType.DISRUPTION_DETECTED, sc, base)
        reservation = _confirmed(reservations, sc)
        voucher: VoucherContent | None = None
        if reservation is not None:
            try:
                voucher = _voucher(case, sc, reservation, transfers, context)
            except NexaError as exc:
                problems.append(
                    NotificationOutcome(
                        dedup_key="",
                        type=NotificationType.VOUCHER_ISSUED,
                        channel="",
                        status="failed",
                        error=str(exc),
                    )
                )
        if sc.status is SubCaseStatus.OFFER_READY and reservation is not None:
            plan(
                NotificationType.OFFER_READY,
                sc,
                {**base, "voucher": voucher},
                reservation=reservation.urn,
            )
        if voucher is not None and reservation is not None:
            plan(
                NotificationType.VOUCHER_ISSUED,
                sc,
                {**base, "voucher": voucher},
                reservation=reservation.urn,
                voucher=voucher,
            )
        for card in cards:
            if card.group_id != sc.group.group_id or card.status is CardStatus.CANCELLED:
                continue
            card_data = {
                **base,
                "card_urn": str(card.urn),
                "reveal_link": context.reveal_link(card.urn),
                "loaded": card.loaded,
            }
            plan(NotificationType.CARD_ISSUED, sc, card_data, subject=str(card.urn.base))
            loads = await store.audit.query(
                tenant, AuditQuery(entity_urn=card.urn.base, action="card.loaded")
            )
            for entry in loads:
                load_key = str(entry.after.get("key", entry.urn))
                plan(
                    NotificationType.CARD_LOADED,
                    sc,
                    {
                        **card_data,
                        "amount": Money(entry.after["amount"], entry.after["currency"]),
                        "meal": entry.after.get("label", "single"),
                    },
                    subject=load_key,
                )
        for t in transfers:
            if without_status(sc.urn) not in {without_status(u) for u in t.sub_case_urns}:
                continue
            if t.status not in (TransferStatus.DISPATCHED, TransferStatus.IN_PROGRESS):
                continue  # a finished ride is not announced after the fact
            plan(
                NotificationType.TRANSPORT_DISPATCHED,
                sc,
                {**base, "transfer": t},
                subject=str(t.urn.base),
            )
        if sc.status in (SubCaseStatus.FAILED, SubCaseStatus.MANUAL_REVIEW) and context.operators:
            for op in context.operators:
                language = choose_language(op.language, context.airport.default_language, languages)
                gid = f"{sc.group.group_id}/{op.urn}"
                key = dedup_key(gid, NotificationType.SUBCASE_FAILED, Channel.EMAIL, sc.urn.base)
                jobs.append(
                    _Job(
                        PlannedMessage(
                            NotificationType.SUBCASE_FAILED,
                            sc.group.group_id,
                            op,
                            Channel.EMAIL,
                            language,
                            key,
                            None,
                            str(sc.urn.base),
                        ),
                        case.urn,
                        {**base, "status": sc.status.value},
                    )
                )
    return jobs, problems


def _render(deps: CareDeps, job: _Job, airline: str) -> RenderedMessage:
    assert deps.renderer is not None
    m = job.message
    data = {
        **job.data,
        "recipient_name": m.recipient.contact.name,
        "airline_code": airline,
    }
    rendered = deps.renderer.render_notification(m.type, m.language, airline, data)
    if job.voucher is not None:
        voucher = deps.renderer.render_voucher(job.voucher, m.language)
        return attrs.evolve(
            rendered,
            html=voucher.html,
            text=f"{rendered.text}\n\n{voucher.text}",
            attachments=(*rendered.attachments, *voucher.attachments),
        )
    return rendered


async def _claim(deps: CareDeps, tenant: TenantContext, job: _Job, key: str) -> Notification:
    """The one notification record for ``key``, even when two runs race.

    The idempotency store is the atomic claim: the first run's minted URN wins and a
    concurrent run adopts it instead of adding a second record.
    """
    store = deps.store
    m = job.message
    claim = await store.idempotency.remember(
        tenant, "notification", key, {"notification_urn": str(deps.ids.new("notification"))}
    )
    urn = Urn.parse(str(claim.result["notification_urn"]))
    try:
        return await store.notifications.get(tenant, urn)
    except NotFoundError:
        pass
    try:
        return await store.notifications.add(
            tenant,
            Notification(
                urn=urn,
                airline_urn=tenant.airline_urn,
                case_urn=job.case_urn,
                group_id=m.group_id,
                type=m.type.value,
                channel=m.channel,
                recipient_urn=m.recipient.urn,
                dedup_key=key,
                reservation_urn=m.reservation_urn,
            ),
        )
    except DuplicateError:
        return await store.notifications.get(tenant, urn)


async def _settle(
    store: OperationalStore, tenant: TenantContext, record: Notification, **changes: Any
) -> None:
    """Record a delivery outcome; a concurrent run that settled it first wins."""
    try:
        await store.notifications.update(tenant, attrs.evolve(record, **changes))
    except ConcurrencyError:
        current = await store.notifications.get(tenant, record.urn)
        if current.status not in _DONE:
            await store.notifications.update(tenant, attrs.evolve(current, **changes))


async def _deliver(
    deps: CareDeps, tenant: TenantContext, job: _Job, *, key: str | None = None
) -> NotificationOutcome:
    store = deps.store
    m = job.message
    key = key or m.dedup_key
    existing = await store.notifications.find(tenant, dedup_key=key)
    record = existing[0] if existing else None
    if record is not None and record.status in _DONE:
        return NotificationOutcome(key, m.type, m.channel.value, "skipped", record.urn)
    provider = deps.provider_for(m.channel)
    if provider is None:
        raise ConfigurationError(f"no notification provider serves {m.channel.value}")
    if record is None:
        record = await _claim(deps, tenant, job, key)
    if record.status in _DONE:
        return NotificationOutcome(key, m.type, m.channel.value, "skipped", record.urn)
    airline = tenant.airline_urn.id
    rendered = _render(deps, job, airline)
    address = channel_address(m.recipient.contact, m.channel) or str(m.recipient.urn)
    message = OutboundMessage(
        airline_urn=tenant.airline_urn,
        channel=m.channel,
        to=address,
        subject=rendered.subject,
        text=rendered.text,
        html=rendered.html,
        dedup_key=key,
        attachments=rendered.attachments,
    )
    info = {"type": m.type.value, "channel": m.channel.value, "language": m.language}
    try:
        result = await provider.send(message)
    except TransientProviderError as exc:
        await _audit(
            deps,
            store,
            tenant,
            "notification.failed",
            record.urn,
            f"{provider.name}: {exc}",
            {**info, "retryable": True},
        )
        return NotificationOutcome(key, m.type, m.channel.value, "failed", record.urn, str(exc))
    except PermanentProviderError as exc:
        await _settle(store, tenant, record, status=NotificationStatus.BOUNCED)
        await _audit(
            deps,
            store,
            tenant,
            "notification.bounced",
            record.urn,
            f"{provider.name}: {exc}",
            {**info, "retryable": False},
        )
        return NotificationOutcome(key, m.type, m.channel.value, "bounced", record.urn, str(exc))
    await _settle(
        store,
        tenant,
        record,
        status=NotificationStatus.SENT,
        provider_message_id=result.provider_message_id,
        sent_at=deps.clock.now(),
    )
    await _audit(
        deps,
        store,
        tenant,
        "notification.sent",
        record.urn,
        f"sent via {provider.name}",
        {**info, "provider_message_id": result.provider_message_id},
    )
    return NotificationOutcome(key, m.type, m.channel.value, "sent", record.urn)


async def run_notification_stage(
    deps: CareDeps, tenant: TenantContext, case_urn: Urn, *, context: CareContext
) -> NotificationReport:
    """Send every message the case's current state calls for, exactly once.

    Triggers come from the records: every sub-case → ``case.disruption.detected``;
    OFFER_READY with a confirmed reservation → ``subcase.offer-ready``; a confirmed
    reservation → ``voucher.issued`` (HTML + text voucher); each card → ``wallet.card-issued``
    and each recorded load → ``wallet.card-loaded``; each dispatched transfer →
    ``transport.dispatched``; FAILED / MANUAL_REVIEW sub-cases → ``subcase.failed`` to
    ``context.operators``. Messages already SENT, DELIVERED, BOUNCED or FAILED are skipped (a
    re-run never re-sends); transient failures stay QUEUED for the next run. A bounce is
    audited and the message goes out on the channel's next fallback the recipient has.
    """
    jobs, outcomes = await _plan_case(deps, tenant, case_urn, context)
    for problem in outcomes:
        await _audit(
            deps,
            deps.store,
            tenant,
            "notification.failed",
            case_urn,
            problem.error or "message could not be prepared",
            {"type": problem.type.value, "retryable": False},
        )
    done = list(outcomes)
    planned = {
        (
            j.message.recipient.urn,
            j.message.type,
            j.message.subject_key,
            j.message.reservation_urn,
            j.message.channel,
        )
        for j in jobs
    }
    queue = list(jobs)
    while queue:
        job = queue.pop(0)
        outcome = await _deliver(deps, tenant, job)
        done.append(outcome)
        if outcome.status != "bounced" and not (
            outcome.status == "skipped" and await _was_bounced(deps, tenant, outcome)
        ):
            continue
        m = job.message
        for channel in FALLBACK.get(m.channel, ()):
            ident = (m.recipient.urn, m.type, m.subject_key, m.reservation_urn, channel)
            if channel not in m.recipient.channels or ident in planned:
                continue
            planned.add(ident)
            fallback = attrs.evolve(
                m,
                channel=channel,
                dedup_key=idempotency_key("notification-fallback", m.dedup_key, channel.value),
            )
            queue.insert(0, attrs.evolve(job, message=fallback))
            done.append(NotificationOutcome(m.dedup_key, m.type, channel.value, "fallback"))
            break
    return NotificationReport(tuple(done))


async def _was_bounced(deps: CareDeps, tenant: TenantContext, outcome: NotificationOutcome) -> bool:
    if outcome.notification_urn is None:
        return False
    record = await deps.store.notifications.get(tenant, outcome.notification_urn)
    return record.status in (NotificationStatus.BOUNCED, NotificationStatus.FAILED)


_RECEIPTS = frozenset(
    {NotificationStatus.DELIVERED, NotificationStatus.BOUNCED, NotificationStatus.FAILED}
)


async def handle_delivery_receipt(
    deps: CareDeps,
    tenant: TenantContext,
    dedup_key: str,
    status: NotificationStatus,
    *,
    event_urn: Urn,
    reason: str = "",
) -> Notification:
    """Apply a provider's delivery receipt (SendGrid event, Twilio status callback, …).

    DELIVERED, BOUNCED or FAILED; redeliveries of ``event_urn`` change nothing. Bounces
    and failures are audited; the next notification stage run sends the message on the
    recipient's next fallback channel.
    """
    if status not in _RECEIPTS:
        raise InvalidInputError(
            f"a delivery receipt reports DELIVERED, BOUNCED or FAILED, not {status.value}",
            field="status",
        )
    store = deps.store
    found = await store.notifications.find(tenant, dedup_key=dedup_key)
    if not found:
        raise NotFoundError(f"no notification with key {dedup_key}", key=dedup_key)
    record = found[0]
    key = idempotency_key("webhook", event_urn)
    if await store.idempotency.lookup(tenant, "webhook", key) is not None:
        return record
    async with store.transaction() as tx:
        claim = await tx.idempotency.remember(tenant, "webhook", key, {"status": status.value})
        record = await tx.notifications.get(tenant, record.urn)
        if claim.replayed or record.status is status:
            return record
        updated = await tx.notifications.update(tenant, attrs.evolve(record, status=status))
        action = (
            "notification.delivered"
            if status is NotificationStatus.DELIVERED
            else ("notification.bounced")
        )
        await _audit(
            deps,
            tx,
            tenant,
            action,
            record.urn,
            reason or f"delivery receipt {event_urn}",
            {"status": status.value, "channel": record.channel.value, "type": record.type},
            {"status": record.status.value},
        )
    return updated


async def resend_notification(
    deps: CareDeps,
    tenant: TenantContext,
    notification_urn: Urn,
    *,
    context: CareContext,
    action_seq: int,
) -> NotificationOutcome:
    """Explicitly resend a message: a new action with its own dedup key.

    ``action_seq`` numbers the operator's resends of that message (1, 2, …); repeating
    the same ``action_seq`` does not send again.
    """
    original = await deps.store.notifications.get(tenant, notification_urn)
    jobs, _ = await _plan_case(deps, tenant, original.case_urn, context)
    for job in jobs:
        if job.message.dedup_key == original.dedup_key:
            key = resend_key(original.dedup_key, action_seq)
            outcome = await _deliver(deps, tenant, job, key=key)
            await _audit(
                deps,
                deps.store,
                tenant,
                "notification.resend",
                original.urn,
                f"explicit resend #{action_seq}",
                {"new_key": key},
            )
            return outcome
    raise ConflictError(
        f"{notification_urn} no longer applies to the case's current state",
        urn=str(notification_urn),
    )


# --------------------------------------------------------------------------- meal cards


async def _card_ledger(
    store: OperationalStore, tenant: TenantContext, card: IssuedCard
) -> CardLedger:
    entries = await store.audit.query(tenant, AuditQuery(entity_urn=card.urn.base))
    events: list[CardEvent] = []
    for e in entries:
        if e.action == "card.loaded":
            kind = CardEventKind.LOAD
        elif e.action == "card.event":
            kind = CardEventKind(e.after["kind"])
        else:
            continue
        events.append(
            CardEvent(
                event_urn=Urn.parse(str(e.after.get("event_urn", e.urn))),
                card_urn=card.urn,
                kind=kind,
                amount=Money(e.after["amount"], e.after["currency"]),
                at=e.at,
                authorization=e.after.get("authorization"),
            )
        )
    ledger = CardLedger(card.currency)
    for ev in events:  # audit order is arrival order
        ledger.apply(ev)
    return ledger


async def issue_meal_cards(
    deps: CareDeps, tenant: TenantContext, case_urn: Urn, *, context: CareContext
) -> list[IssuedCard]:
    """One card per (case, group) for every group owed meals, then the loads due now.

    The window runs from the stay's check-in (else the disruption) to its check-out (else
    the next departure). Groups whose tier has no allowance get no card. Re-running
    returns the same cards and never loads twice.
    """
    if deps.payments is None:
        raise ConfigurationError("issuing meal cards needs a payment provider")
    store = deps.store
    case = await store.cases.get(tenant, case_urn)
    out: list[IssuedCard] = []
    for sc in sorted(
        await store.sub_cases.find(tenant, case_urn=case.urn), key=lambda s: s.group.group_id
    ):
        if sc.status in (SubCaseStatus.FAILED, SubCaseStatus.REJECTED_BY_PAX):
            continue
        plan = _group_meal_plan(case, sc, context)
        if plan is None:
            continue
        card = await _ensure_card(deps, tenant, case, sc, plan.per_day.currency)
        out.append(card)
    await load_due_meals(deps, tenant, case_urn, context=context)
    return [await store.cards.get(tenant, c.urn) for c in out]


def _meal_window(case: Case, sc: SubCase, context: CareContext) -> tuple[datetime, datetime] | None:
    if sc.stay_plan is not None:
        return sc.stay_plan.check_in, sc.stay_plan.check_out
    end = _departure(case, sc, context)
    if end is None or end < case.disrupted_at:
        return None
    return case.disrupted_at, end


def _group_meal_plan(case: Case, sc: SubCase, context: CareContext) -> MealPlan | None:
    """The group's meal plan over its stay window (None: no window or no allowance)."""
    window = _meal_window(case, sc, context)
    if window is None:
        return None
    return meal_plan(
        sc.group,
        context.policy.meals,
        start=window[0],
        end=window[1],
        timezone=context.airport.timezone,
        minimum_per_day=context.regulation_meals.get(sc.group.group_id),
    )


async def _ensure_card(
    deps: CareDeps, tenant: TenantContext, case: Case, sc: SubCase, currency: str
) -> IssuedCard:
    assert deps.payments is not None
    store = deps.store
    group_id = sc.group.group_id
    existing = await store.cards.find(tenant, case_urn=case.urn, group_id=group_id)
    if existing:
        return existing[0]
    key = idempotency_key("card", case.urn.base, group_id)
    minted = await store.idempotency.remember(
        tenant, "card", key, {"card_urn": str(deps.ids.new("issued-card"))}
    )
    card_urn = Urn.parse(str(minted.result["card_urn"]))
    issued = await deps.payments.issue_card(
        CardIssueRequest(
            airline_urn=tenant.airline_urn,
            card_urn=card_urn,
            case_urn=case.urn,
            group_id=group_id,
            holder_urn=sc.group.lead.urn,
            currency=currency,
            idempotency_key=key,
        )
    )
    try:
        async with store.transaction() as tx:
            card = await tx.cards.add(
                tenant,
                IssuedCard(
                    urn=card_urn,
                    airline_urn=tenant.airline_urn,
                    case_urn=case.urn,
                    group_id=group_id,
                    holder_urn=sc.group.lead.urn,
                    currency=currency,
                    loaded=Money(0, currency),
                    spent=Money(0, currency),
                    vendor_ref=issued.vendor_ref,
                ),
            )
            await _audit(
                deps,
                tx,
                tenant,
                "card.issued",
                card.urn,
                f"meal card for group {group_id}",
                {"vendor": deps.payments.name},
            )
    except DuplicateError:  # a concurrent run issued the same card (same URN) first
        card = await store.cards.get(tenant, card_urn)
    return card


async def load_due_meals(
    deps: CareDeps, tenant: TenantContext, case_urn: Urn, *, context: CareContext
) -> list[IssuedCard]:
    """Load every scheduled drop (or the single load) that is due by now.

    Call it from a scheduler at the drop times; each load happens once per
    (card, meal, time) however often it runs.
    """
    if deps.payments is None:
        raise ConfigurationError("loading meal cards needs a payment provider")
    store = deps.store
    case = await store.cases.get(tenant, case_urn)
    now = deps.clock.now()
    touched: list[IssuedCard] = []
    for card in await store.cards.find(tenant, case_urn=case.urn):
        if card.status is CardStatus.CANCELLED:
            continue
        subs = [
            s
            for s in await store.sub_cases.find(tenant, case_urn=case.urn)
            if s.group.group_id == card.group_id
        ]
        if not subs:
            continue
        sc = subs[0]
        plan = _group_meal_plan(case, sc, context)
        if plan is None:
            continue
        for load in plan.loads:
            if load.at > now:
                continue
            key = idempotency_key("card-load", card.urn.base, load.label, load.at.isoformat())
            if await store.idempotency.lookup(tenant, "card-load", key) is not None:
                continue
            await deps.payments.load(
                tenant.airline_urn,
                CardIssued(card.urn, card.vendor_ref or ""),
                load.amount,
                idempotency_key=key,
            )
            async with store.transaction() as tx:
                claim = await tx.idempotency.remember(
                    tenant, "card-load", key, {"amount": str(load.amount)}
                )
                if claim.replayed:  # a concurrent run recorded this drop first
                    continue
                current = await tx.cards.get(tenant, card.urn)
                card = await tx.cards.update(
                    tenant,
                    attrs.evolve(
                        current, loaded=current.loaded + load.amount, status=CardStatus.ACTIVE
                    ),
                )
                await _audit(
                    deps,
                    tx,
                    tenant,
                    "card.loaded",
                    card.urn,
                    f"{load.label} drop",
                    {
                        "amount": str(load.amount.amount),
                        "currency": load.amount.currency,
                        "label": load.label,
                        "due": load.at.isoformat(),
                        "key": key,
                    },
                )
            touched.append(card)
    return touched


async def record_card_event(deps: CareDeps, tenant: TenantContext, event: CardEvent) -> IssuedCard:
    """Apply a card webhook (authorization, settlement, reversal) to the card's balance.

    Redeliveries of the same event URN change nothing.
    """
    store = deps.store
    card = await store.cards.get(tenant, event.card_urn)
    if event.kind is CardEventKind.LOAD:
        raise InvalidInputError("loads are recorded by load_due_meals, not webhooks", field="kind")
    key = idempotency_key("webhook", event.event_urn)
    if await store.idempotency.lookup(tenant, "webhook", key) is not None:
        return card
    async with store.transaction() as tx:  # all or nothing: a bad event changes nothing
        claim = await tx.idempotency.remember(tenant, "webhook", key, {"card": str(card.urn)})
        card = await tx.cards.get(tenant, card.urn)
        if claim.replayed:
            return card
        ledger = await _card_ledger(tx, tenant, card)
        ledger.apply(event)  # validates currency and amount
        await _audit(
            deps,
            tx,
            tenant,
            "card.event",
            card.urn,
            f"card webhook {event.kind.value}",
            {
                "kind": event.kind.value,
                "amount": str(event.amount.amount),
                "currency": event.amount.currency,
                "authorization": event.authorization,
                "event_urn": str(event.event_urn),
                "merchant": event.merchant,
            },
        )
        spent = ledger.settled + ledger.pending
        card = await tx.cards.update(tenant, attrs.evolve(card, spent=Money(spent, card.currency)))
    return card


@attrs.frozen
class MealReconciliation:
    """Per-case report: one row per card and the unused value per currency."""

    case_urn: Urn
    rows: tuple[CardReconciliation, ...]

    def unused(self) -> dict[str, Decimal]:
        """Unused value per currency."""
        out: dict[str, Decimal] = {}
        for r in self.rows:
            out[r.currency] = out.get(r.currency, Decimal(0)) + r.unused
        return out

    def loaded(self) -> dict[str, Decimal]:
        """Loaded value per currency."""
        out: dict[str, Decimal] = {}
        for r in self.rows:
            out[r.currency] = out.get(r.currency, Decimal(0)) + r.loaded
        return out


async def reconcile_meal_cards(
    deps: CareDeps, tenant: TenantContext, case_urn: Urn
) -> MealReconciliation:
    """Loaded, settled, pending, reversed and unused value of every card of a case."""
    cards = await deps.store.cards.find(tenant, case_urn=case_urn)
    rows = []
    for card in cards:
        ledger = await _card_ledger(deps.store, tenant, card)
        rows.append(ledger.reconcile(card.urn, card.group_id))
    return MealReconciliation(case_urn, tuple(rows))


# --------------------------------------------------------------------------- transport


@attrs.frozen
class TransportOutcome:
    """Transfers dispatched (or retried) and review items raised."""

    transfers: tuple[Transfer, ...]
    reviews: tuple[ManualReviewItem, ...]


def _rides(
    case: Case,
    subs: Sequence[SubCase],
    reservations: Sequence[Reservation],
    context: CareContext,
    direction: TransferDirection,
    now: datetime,
) -> list[RideDemand]:
    rules = context.policy.transport
    out = []
    for sc in subs:
        reservation = _confirmed(reservations, sc)
        if reservation is None:
            continue
        if direction is TransferDirection.AIRPORT_TO_HOTEL:
            out.append(
                RideDemand.to_hotel(
                    sub_case_urn=sc.urn.base,
                    group_id=sc.group.group_id,
                    pnr=sc.group.pnr_urn.id,
                    hotel_urn=reservation.hotel_urn,
                    passengers=sc.group.size,
                    tier=sc.group.tier,
                    ready_at=max(now, case.disrupted_at),
                )
            )
            continue
        departure = _departure(case, sc, context)
        if departure is not None:
            out.append(
                RideDemand.to_airport(
                    sub_case_urn=sc.urn.base,
                    group_id=sc.group.group_id,
                    pnr=sc.group.pnr_urn.id,
                    hotel_urn=reservation.hotel_urn,
                    passengers=sc.group.size,
                    tier=sc.group.tier,
                    departure=departure,
                    rules=rules,
                )
            )
    return out


async def plan_and_dispatch_transport(
    deps: CareDeps,
    tenant: TenantContext,
    case_urn: Urn,
    *,
    context: CareContext,
    modes: frozenset[DispatchMode] = frozenset({DispatchMode.AUTOMATIC}),
    only: frozenset[Urn] | None = None,
    direction: TransferDirection = TransferDirection.HOTEL_TO_AIRPORT,
) -> TransportOutcome:
    """Plan rides for the case's booked groups and dispatch them.

    ``direction``: hotel → airport (pickup by departure − minutesBeforePickup) or
    airport → hotel (pickup once the group is ready: now, or the disruption if later).

    Only groups whose tier's dispatch mode is in ``modes`` are planned (the saga passes
    AUTOMATIC; a passenger's request passes ON_DEMAND for one sub-case via ``only``).
    Groups already on a live transfer are left alone; transfers still REQUESTED (a crash
    between record and dispatch) are dispatched again under the same URN. No vendor →
    the transfer FAILS and a TRANSPORT_FAILED review item is raised.
    """
    store = deps.store
    case = await store.cases.get(tenant, case_urn)
    rules = context.policy.transport
    subs = await store.sub_cases.find(tenant, case_urn=case.urn)
    reservations = await store.reservations.find(tenant, case_urn=case.urn)
    existing = await store.transfers.find(tenant, case_urn=case.urn)
    riding = {
        without_status(u)
        for t in existing
        if t.status not in (TransferStatus.CANCELLED, TransferStatus.FAILED)
        and t.direction is direction
        for u in t.sub_case_urns
    }
    eligible = [
        s
        for s in subs
        if s.status
        not in (SubCaseStatus.FAILED, SubCaseStatus.REJECTED_BY_PAX, SubCaseStatus.COMPENSATING)
        and rules.dispatch_for(s.group.tier) in modes
        and without_status(s.urn) not in riding
        and (only is None or without_status(s.urn) in only)
    ]
    plan = plan_rides(
        _rides(case, eligible, reservations, context, direction, deps.clock.now()), rules
    )
    reviews: list[ManualReviewItem] = []
    for demand, reason in plan.unplaced:
        reviews.append(
            await _review(
                deps,
                store,
                tenant,
                case.urn,
                ReviewCategory.TRANSPORT_FAILED,
                reason,
                [demand.group_id],
            )
        )
    pending = [
        t
        for t in existing
        if t.status is TransferStatus.REQUESTED
        and t.direction is direction
        and (only is None or any(without_status(u) in only for u in t.sub_case_urns))
    ]
    for run in plan.runs:
        transfer = Transfer(
            urn=deps.ids.new("transfer"),
            airline_urn=tenant.airline_urn,
            case_urn=case.urn,
            sub_case_urns=run.sub_case_urns,
            direction=run.direction,
            vehicle=run.vehicle,
            pickup_at=run.pickup_at,
            passengers=run.passengers,
        )
        pending.append(await store.transfers.add(tenant, transfer))
    done: list[Transfer] = []
    groups = {without_status(s.urn): s for s in subs}
    for t in pending:
        result, review = await _dispatch(deps, tenant, case, t, groups, reservations, context)
        done.append(result)
        if review is not None:
            reviews.append(review)
    return TransportOutcome(tuple(done), tuple(reviews))


async def _dispatch(
    deps: CareDeps,
    tenant: TenantContext,
    case: Case,
    transfer: Transfer,
    groups: Mapping[Urn, SubCase],
    reservations: Sequence[Reservation],
    context: CareContext,
) -> tuple[Transfer, ManualReviewItem | None]:
    store = deps.store
    rules = context.policy.transport
    riders = [
        groups[without_status(u)] for u in transfer.sub_case_urns if without_status(u) in groups
    ]
    lead = riders[0] if riders else None
    reservation = _confirmed(reservations, lead) if lead is not None else None
    hotel = context.hotel(reservation.hotel_urn) if reservation is not None else None
    hotel_at = (
        (hotel.latitude or 0.0, hotel.longitude or 0.0)
        if hotel is not None
        else (context.airport.latitude, context.airport.longitude)
    )
    airport_at = (context.airport.latitude, context.airport.longitude)
    to_airport = transfer.direction is TransferDirection.HOTEL_TO_AIRPORT
    request = TransferRequest(
        airline_urn=tenant.airline_urn,
        transfer_urn=transfer.urn,
        direction=transfer.direction,
        vehicle=transfer.vehicle,
        pickup_at=transfer.pickup_at,
        passengers=transfer.passengers,
        pickup=hotel_at if to_airport else airport_at,
        dropoff=airport_at if to_airport else hotel_at,
        lead_name=lead.group.lead.contact.name if lead is not None else "",
    )
    groups_ids = [r.group.group_id for r in riders]
    if transfer.vendor is not None:  # chosen before a crash: never switch vendors on retry
        chosen = next((v for v in deps.transport if v.name == transfer.vendor), None)
        if chosen is None:
            raise ConfigurationError(f"transport vendor {transfer.vendor!r} is not configured")
        return await _send_dispatch(deps, tenant, case, transfer, chosen, request, groups_ids)
    tier = max((r.group.tier for r in riders), key=_TIERS.index) if riders else None
    candidates: list[tuple[VendorCandidate, TransportVendor]] = []
    for vendor in deps.transport:
        covers = vendor.covers(context.airport.iata)
        quote = None
        if covers:
            try:
                quote = await vendor.provider.quote(request)
            except (TransientProviderError, PermanentProviderError):
                quote = None
        candidates.append(
            (
                VendorCandidate(
                    vendor=vendor.name,
                    covers=covers,
                    max_passengers=vendor.max_passengers,
                    available=quote is not None and quote.available,
                    price=quote.price if quote is not None else None,
                ),
                vendor,
            )
        )
    choice = (
        select_vendor(
            [c for c, _ in candidates],
            passengers=transfer.passengers,
            tier=tier,
            route=context.airport.iata,
            rules=rules,
        )
        if tier is not None
        else None
    )
    if choice is None or choice.vendor is None:
        reason = "no transport vendor satisfies coverage, capacity, cost and pinning" + (
            f" ({', '.join(f'{v}: {why}' for v, why in choice.rejected)})" if choice else ""
        )
        return await _fail_transfer(deps, tenant, case, transfer, reason, groups_ids)
    vendor = next(v for c, v in candidates if c.vendor == choice.vendor)
    price = next(c.price for c, _ in candidates if c.vendor == choice.vendor)
    # record the choice first: a retry after a crash goes back to the same vendor
    transfer = await store.transfers.update(
        tenant, attrs.evolve(transfer, vendor=vendor.name, price=price)
    )
    return await _send_dispatch(deps, tenant, case, transfer, vendor, request, groups_ids)


async def _send_dispatch(
    deps: CareDeps,
    tenant: TenantContext,
    case: Case,
    transfer: Transfer,
    vendor: TransportVendor,
    request: TransferRequest,
    groups_ids: Sequence[str],
) -> tuple[Transfer, ManualReviewItem | None]:
    store = deps.store
    try:
        dispatched = await vendor.provider.dispatch(request)
    except TransientProviderError:
        return transfer, None  # stays REQUESTED: the next run dispatches it again
    except PermanentProviderError as exc:
        return await _fail_transfer(
            deps, tenant, case, transfer, f"{vendor.name} refused the dispatch: {exc}", groups_ids
        )
    async with store.transaction() as tx:
        current = await tx.transfers.get(tenant, transfer.urn)
        updated = await tx.transfers.update(
            tenant, apply_transfer_status(current, TransferStatus.DISPATCHED)
        )
        await _audit(
            deps,
            tx,
            tenant,
            "transfer.dispatched",
            transfer.urn,
            f"dispatched to {vendor.name}",
            {
                "vendor": vendor.name,
                "vendor_ref": dispatched.vendor_ref,
                "eta_minutes": dispatched.eta_minutes,
                "groups": groups_ids,
            },
        )
    return updated, None


async def _fail_transfer(
    deps: CareDeps,
    tenant: TenantContext,
    case: Case,
    transfer: Transfer,
    reason: str,
    groups: Sequence[str],
) -> tuple[Transfer, ManualReviewItem]:
    store = deps.store
    current = await store.transfers.get(tenant, transfer.urn)
    failed = await store.transfers.update(
        tenant, apply_transfer_status(current, TransferStatus.FAILED)
    )
    await _audit(deps, store, tenant, "transfer.failed", transfer.urn, reason)
    review = await _review(
        deps, store, tenant, case.urn, ReviewCategory.TRANSPORT_FAILED, reason, groups
    )
    return failed, review


async def handle_transfer_webhook(
    deps: CareDeps,
    tenant: TenantContext,
    transfer_urn: Urn,
    status: TransferStatus,
    *,
    event_urn: Urn,
) -> Transfer:
    """Apply a vendor's status webhook (redeliveries change nothing)."""
    store = deps.store
    key = idempotency_key("webhook", event_urn)
    current = await store.transfers.get(tenant, transfer_urn)
    if await store.idempotency.lookup(tenant, "webhook", key) is not None:
        return current
    apply_transfer_status(current, status)  # refuse an illegal move before recording anything
    async with store.transaction() as tx:
        claim = await tx.idempotency.remember(tenant, "webhook", key, {"status": status.value})
        current = await tx.transfers.get(tenant, transfer_urn)
        if claim.replayed:
            return current
        nxt = apply_transfer_status(current, status)
        if nxt is current:
            return current
        updated = await tx.transfers.update(tenant, nxt)
        await _audit(
            deps,
            tx,
            tenant,
            "transfer.status",
            transfer_urn,
            f"vendor webhook {event_urn}",
            {"status": status.value},
            {"status": current.status.value},
        )
    return updated


async def cancel_transfer(
    deps: CareDeps,
    tenant: TenantContext,
    transfer_urn: Urn,
    *,
    reason: str,
    free_cancellation: timedelta = timedelta(hours=1),
) -> Transfer:
    """Cancel at the vendor and record any no-show fee it charged.

    Cancelling less than ``free_cancellation`` before pickup is late (audited as such).
    Cancelling a cancelled transfer is a no-op.
    """
    store = deps.store
    current = await store.transfers.get(tenant, transfer_urn)
    if current.status is TransferStatus.CANCELLED:
        return current
    late = is_late_cancellation(current, deps.clock.now(), free_cancellation)
    fee: Money | None = None
    if current.vendor is not None:
        vendor = next((v for v in deps.transport if v.name == current.vendor), None)
        if vendor is None:
            raise ConfigurationError(f"transport vendor {current.vendor!r} is not configured")
        fee = await vendor.provider.cancel(tenant.airline_urn, current.urn)
    nxt = attrs.evolve(apply_transfer_status(current, TransferStatus.CANCELLED), no_show_fee=fee)
    async with store.transaction() as tx:
        updated = await tx.transfers.update(tenant, nxt)
        await _audit(
            deps,
            tx,
            tenant,
            "transfer.cancelled",
            transfer_urn,
            reason,
            {
                "status": "CANCELLED",
                "late": late,
                "no_show_fee": str(fee) if fee is not None else None,
            },
            {"status": current.status.value},
        )
    return updated


async def compensate_transport(
    deps: CareDeps, tenant: TenantContext, sub_case_urn: Urn, *, reason: str
) -> list[Transfer]:
    """Undo transport for a sub-case whose booking was cancelled.

    A ride that carries only this group is cancelled at the vendor; a shared shuttle
    keeps running with the group's seats released.
    """
    store = deps.store
    sc = await store.sub_cases.get(tenant, sub_case_urn)
    mine = without_status(sc.urn)
    out: list[Transfer] = []
    for t in await store.transfers.find(tenant, case_urn=sc.case_urn):
        bases = [without_status(u) for u in t.sub_case_urns]
        if mine not in bases or t.status in TRANSFER_TERMINAL:
            continue
        if len(bases) == 1:
            out.append(await cancel_transfer(deps, tenant, t.urn, reason=reason))
            continue
        keep = tuple(u for u in t.sub_case_urns if without_status(u) != mine)
        async with store.transaction() as tx:
            updated = await tx.transfers.update(
                tenant,
                attrs.evolve(
                    t, sub_case_urns=keep, passengers=max(1, t.passengers - sc.group.size)
                ),
            )
            await _audit(
                deps,
                tx,
                tenant,
                "transfer.seats-released",
                t.urn,
                reason,
                {"released_group": sc.group.group_id, "passengers": updated.passengers},
                {"passengers": t.passengers},
            )
        out.append(updated)
    return out


TRANSFER_TERMINAL = frozenset(
    {TransferStatus.COMPLETED, TransferStatus.CANCELLED, TransferStatus.FAILED}
)


# --------------------------------------------------------------------------- snapshot


async def publish_passenger_snapshot(
    deps: CareDeps, tenant: TenantContext, sub_case_urn: Urn, *, context: CareContext
) -> dict[str, Any]:
    """Compile the passenger document for a sub-case and write it to the snapshot store.

    The saga calls it when the sub-case reaches OFFER_READY (and again after any change
    the passenger should see). Returns the document written.
    """
    if deps.snapshots is None:
        raise ConfigurationError("publishing passenger snapshots needs a snapshot store")
    store = deps.store
    sc = await store.sub_cases.get(tenant, sub_case_urn)
    case = await store.cases.get(tenant, sc.case_urn)
    reservations = await store.reservations.find(tenant, sub_case_urn=sc.urn.base)
    transfers = await store.transfers.find(tenant, case_urn=case.urn)
    reservation = _confirmed(reservations, sc)
    voucher = (
        _voucher(case, sc, reservation, transfers, context) if reservation is not None else None
    )
    cards = await store.cards.find(tenant, case_urn=case.urn, group_id=sc.group.group_id)
    card = cards[0] if cards else None
    doc = passenger_document(
        sc,
        voucher=voucher,
        transfers=transfers,
        card=card,
        card_reveal_link=context.reveal_link(card.urn) if card is not None else None,
        voucher_links={"app": link} if (link := context.passenger_link(sc.urn)) else None,
        published_at=deps.clock.now(),
        timezone=context.airport.timezone,
    )
    doc["transportMode"] = context.policy.transport.dispatch_for(sc.group.tier).value
    await deps.snapshots.put(tenant, sc.urn.base, doc)
    return doc


# --------------------------------------------------------------------------- passenger side


def passenger_tenant(principal: Principal) -> TenantContext:
    """The tenant context of a verified passenger principal (refuses anyone else)."""
    if principal.kind is not PrincipalKind.PASSENGER or principal.case_urn is None:
        raise PermissionDeniedError(
            "this call is for passengers holding a case-scoped token",
            subject=str(principal.subject),
        )
    return TenantContext(
        principal.airline_urn,
        Actor(principal.subject, role="PASSENGER", token_id=principal.token_id),
    )


async def _passenger_sub_case(
    deps: CareDeps, principal: Principal, sub_case_urn: Urn
) -> tuple[TenantContext, SubCase]:
    tenant = passenger_tenant(principal)
    sc = await deps.store.sub_cases.get(tenant, sub_case_urn)  # other tenant: NotFoundError
    assert principal.case_urn is not None
    if without_status(sc.case_urn) != without_status(principal.case_urn):
        raise NotFoundError(f"{sub_case_urn} not found", urn=str(sub_case_urn))
    return tenant, sc


async def _move_sub_case(
    deps: CareDeps,
    tenant: TenantContext,
    sc: SubCase,
    to: SubCaseStatus,
    action: str,
    reason: str,
) -> SubCase:
    """Transition a sub-case and audit the change in one transaction."""
    async with deps.store.transaction() as tx:
        updated: SubCase = await tx.sub_cases.update(tenant, sc.transition(to))
        await _audit(
            deps,
            tx,
            tenant,
            action,
            sc.urn,
            reason,
            {"status": updated.status.value},
            {"status": sc.status.value},
        )
    return updated


@requires_passenger()
async def accept_offer(
    deps: CareDeps, principal: Principal, sub_case_urn: Urn, *, context: CareContext
) -> SubCase:
    """The passenger accepts the hotel offer: OFFER_READY → RESOLVED (idempotent)."""
    tenant, sc = await _passenger_sub_case(deps, principal, sub_case_urn)
    if sc.status is SubCaseStatus.RESOLVED:
        return sc
    updated = await _move_sub_case(
        deps, tenant, sc, SubCaseStatus.RESOLVED, "subcase.accepted", "accepted by passenger"
    )
    if deps.snapshots is not None:
        await publish_passenger_snapshot(deps, tenant, sc.urn, context=context)
    return updated


@requires_passenger()
async def decline_offer(
    deps: CareDeps,
    principal: Principal,
    sub_case_urn: Urn,
    *,
    compensate: CompensationHook,
    context: CareContext,
    reason: str = "declined by passenger",
) -> SubCase:
    """The passenger declines: OFFER_READY → COMPENSATING, transport undone, then
    ``compensate`` (the saga's compensation: cancel the booking, release holds)."""
    tenant, sc = await _passenger_sub_case(deps, principal, sub_case_urn)
    if sc.status is SubCaseStatus.COMPENSATING:
        return sc
    updated = await _move_sub_case(
        deps, tenant, sc, SubCaseStatus.COMPENSATING, "subcase.declined", reason
    )
    await compensate_transport(deps, tenant, sc.urn, reason=reason)
    await compensate(tenant, updated)
    if deps.snapshots is not None:
        await publish_passenger_snapshot(deps, tenant, sc.urn, context=context)
    return updated


@requires_passenger()
async def request_transport(
    deps: CareDeps, principal: Principal, sub_case_urn: Urn, *, context: CareContext
) -> tuple[Transfer, ...]:
    """The passenger taps "Request transport" (ON_DEMAND tiers; AUTOMATIC ones already
    have a ride). Returns the group's live transfers; MANUAL tiers are refused."""
    tenant, sc = await _passenger_sub_case(deps, principal, sub_case_urn)
    mode = context.policy.transport.dispatch_for(sc.group.tier)
    if mode is DispatchMode.MANUAL:
        raise ConflictError(
            "transport for this booking is arranged by the airline",
            urn=str(sc.urn),
            mode=mode.value,
        )
    if sc.status not in (SubCaseStatus.OFFER_READY, SubCaseStatus.RESOLVED):
        raise ConflictError(
            f"transport can be requested once the hotel is booked (sub-case is {sc.status.value})",
            urn=str(sc.urn),
        )
    await plan_and_dispatch_transport(
        deps,
        tenant,
        sc.case_urn,
        context=context,
        modes=frozenset({DispatchMode.ON_DEMAND, DispatchMode.AUTOMATIC}),
        only=frozenset({without_status(sc.urn)}),
    )
    mine = without_status(sc.urn)
    live = tuple(
        t
        for t in await deps.store.transfers.find(tenant, case_urn=sc.case_urn)
        if mine in {without_status(u) for u in t.sub_case_urns}
        and t.status not in (TransferStatus.CANCELLED, TransferStatus.FAILED)
    )
    if deps.snapshots is not None:
        await publish_passenger_snapshot(deps, tenant, sc.urn, context=context)
    return live
