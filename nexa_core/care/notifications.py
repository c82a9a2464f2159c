"""Notifications: triggers, recipients, language, channels, dedup keys — and delivery.

Rules (facts file §17) and the delivery service (:func:`deliver` and its entry points:
the voucher, ride and meal-drop announcements, delivery receipts, operator resends).

* Triggers and their default channels are :data:`TRIGGERS`.
* Language: the passenger's preference, else the airport's default, else English —
  each only if a template exists for it (:func:`choose_language`).
* Channels a recipient cannot receive fall back along :data:`FALLBACK` (WhatsApp → SMS →
  email; push → SMS → email) — passengers without a phone or a smartphone still hear.
* Dedup key per (group, type, channel, reservation) from
  :func:`nexa_core.idempotency.idempotency_key`; an explicit resend derives a new key
  (:func:`resend_key`).
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs

from nexa_core.care.context import (
    CareDeps,
    RenderedMessage,
    audit_entry,
    on_case_timeline,
    open_review,
)
from nexa_core.care.document import CareRecords, care_records
from nexa_core.care.voucher import VoucherContent
from nexa_core.errors import (
    ConfigurationError,
    ConflictError,
    InvalidInputError,
    NotFoundError,
    ProviderError,
    RenderError,
    TransientProviderError,
)
from nexa_core.idempotency import idempotency_key
from nexa_core.model import (
    AuditEntry,
    CardDrop,
    Channel,
    Contact,
    IssuedCard,
    ManualReviewItem,
    Notification,
    NotificationStatus,
    PassengerGroup,
    PassengerRef,
    ReviewCategory,
    SubCase,
    Transfer,
)
from nexa_core.ports import OutboundMessage
from nexa_core.tenancy import TenantContext
from nexa_core.urn import Urn, without_status

__all__ = [
    "FALLBACK",
    "TRIGGERS",
    "DeliveryReport",
    "NotificationType",
    "PlannedMessage",
    "ReceiptOutcome",
    "Recipient",
    "RecipientKind",
    "Trigger",
    "announce_drop",
    "announce_transfer",
    "channel_address",
    "choose_language",
    "dedup_key",
    "deliver",
    "deliver_voucher",
    "fallback_key",
    "handle_delivery_receipt",
    "message_data",
    "notification_urn",
    "passenger_channels",
    "plan_group_messages",
    "resend_key",
    "resend_notification",
    "resolve_channels",
]


class NotificationType(enum.StrEnum):
    """The triggers that produce messages."""

    DISRUPTION_DETECTED = "case.disruption.detected"
    OFFER_READY = "subcase.offer-ready"
    VOUCHER_ISSUED = "voucher.issued"
    CARD_ISSUED = "wallet.card-issued"
    CARD_LOADED = "wallet.card-loaded"
    TRANSPORT_DISPATCHED = "transport.dispatched"
    SUBCASE_FAILED = "subcase.failed"


class RecipientKind(enum.StrEnum):
    """Who a trigger addresses."""

    ALL_PASSENGERS = "ALL_PASSENGERS"
    LEAD_PASSENGER = "LEAD_PASSENGER"
    OPERATORS = "OPERATORS"


@attrs.frozen
class Trigger:
    """Default channels and recipients of one notification type."""

    type: NotificationType
    channels: tuple[Channel, ...]
    recipients: RecipientKind


_N = NotificationType
#: facts file §17 (D2 triggers)
TRIGGERS: Mapping[NotificationType, Trigger] = {
    _N.DISRUPTION_DETECTED: Trigger(
        _N.DISRUPTION_DETECTED,
        (Channel.SMS, Channel.WHATSAPP, Channel.EMAIL),
        RecipientKind.ALL_PASSENGERS,
    ),
    _N.OFFER_READY: Trigger(
        _N.OFFER_READY,
        (Channel.SMS, Channel.WHATSAPP, Channel.EMAIL),
        RecipientKind.LEAD_PASSENGER,
    ),
    # the voucher: email (HTML + text + QR PNG) and a short SMS with the passenger link
    _N.VOUCHER_ISSUED: Trigger(
        _N.VOUCHER_ISSUED, (Channel.EMAIL, Channel.SMS), RecipientKind.LEAD_PASSENGER
    ),
    _N.CARD_ISSUED: Trigger(
        _N.CARD_ISSUED,
        (Channel.SMS, Channel.EMAIL, Channel.PUSH),
        RecipientKind.LEAD_PASSENGER,
    ),
    _N.CARD_LOADED: Trigger(_N.CARD_LOADED, (Channel.PUSH,), RecipientKind.LEAD_PASSENGER),
    _N.TRANSPORT_DISPATCHED: Trigger(
        _N.TRANSPORT_DISPATCHED, (Channel.SMS, Channel.PUSH), RecipientKind.LEAD_PASSENGER
    ),
    _N.SUBCASE_FAILED: Trigger(_N.SUBCASE_FAILED, (Channel.EMAIL,), RecipientKind.OPERATORS),
}

#: channel → what to try instead, in order, when a recipient cannot receive it or a
#: message on it fails (a bounced email goes out once more by SMS)
FALLBACK: Mapping[Channel, tuple[Channel, ...]] = {
    Channel.WHATSAPP: (Channel.SMS, Channel.EMAIL),
    Channel.PUSH: (Channel.SMS, Channel.EMAIL),
    Channel.SMS: (Channel.EMAIL,),
    Channel.EMAIL: (Channel.SMS,),
}


@attrs.frozen
class Recipient:
    """One addressee: a passenger (reference + contact) or an operator."""

    urn: Urn
    contact: Contact
    channels: frozenset[Channel]
    language: str | None = None  # preference (None: none known)

    def __repr__(self) -> str:
        return f"Recipient({self.urn}, channels={sorted(self.channels)})"


@attrs.frozen
class PlannedMessage:
    """One message to send: type, recipient, channel, language and its dedup key."""

    type: NotificationType
    group_id: str
    recipient: Recipient
    channel: Channel
    language: str
    dedup_key: str
    reservation_urn: Urn | None = None
    subject_key: str | None = None  # the card, load or transfer a message is about


def passenger_channels(
    passenger: PassengerRef, capabilities: Mapping[Urn, frozenset[Channel]] | None = None
) -> frozenset[Channel]:
    """Channels a passenger can receive.

    ``capabilities`` (from the DCS or the airline app) wins when it names the passenger;
    otherwise: email always, SMS and WhatsApp with a phone, no push.
    """
    if capabilities is not None:
        known = capabilities.get(without_status(passenger.urn))
        if known is not None:
            return frozenset(
                c for c in known if c is Channel.PUSH or channel_address(passenger.contact, c)
            )
    out = {Channel.EMAIL}
    if passenger.contact.phone:
        out |= {Channel.SMS, Channel.WHATSAPP}
    return frozenset(out)


def channel_address(contact: Contact, channel: Channel) -> str | None:
    """Where a channel delivers (email or E.164 number); push has no address here."""
    if channel is Channel.EMAIL:
        return contact.email
    if channel in (Channel.SMS, Channel.WHATSAPP):
        return contact.phone
    return None


def resolve_channels(
    wanted: Sequence[Channel], available: frozenset[Channel]
) -> tuple[Channel, ...]:
    """The channels to use: each wanted one, or its first available fallback (no repeats)."""
    out: list[Channel] = []
    for channel in wanted:
        for candidate in (channel, *FALLBACK.get(channel, ())):
            if candidate in available:
                if candidate not in out:
                    out.append(candidate)
                break
    return tuple(out)


def _base(tag: str) -> str:
    return tag.split("-", 1)[0].lower()


def choose_language(
    preference: str | None, airport_default: str | None, supported: Iterable[str]
) -> str:
    """Passenger preference → airport default → English, among ``supported`` locales.

    Tags match on their primary subtag (``pt-BR`` is served by ``pt``).
    """
    have = {_base(s) for s in supported}
    for tag in (preference, airport_default):
        if tag and _base(tag) in have:
            return _base(tag)
    return "en"


def dedup_key(
    group_id: str, type: NotificationType, channel: Channel, reservation: Urn | str | None
) -> str:
    """The facts file's dedup key: (group, type, channel, reservation)."""
    if isinstance(reservation, Urn):
        reservation = str(without_status(reservation))
    return idempotency_key("notification", group_id, type.value, channel.value, reservation)


def resend_key(original: str, action_seq: int) -> str:
    """A new key for an explicit resend (a new operator action: ``action_seq`` ≥ 1)."""
    if action_seq < 1:
        raise InvalidInputError("a resend's action sequence starts at 1", field="action_seq")
    return idempotency_key("notification-resend", original, action_seq)


def plan_group_messages(
    type: NotificationType,
    group: PassengerGroup,
    *,
    airport_language: str | None,
    supported_languages: Iterable[str],
    reservation_urn: Urn | None = None,
    subject_key: str | None = None,
    capabilities: Mapping[Urn, frozenset[Channel]] | None = None,
    channels: Sequence[Channel] | None = None,
    served: frozenset[Channel] | None = None,
) -> list[PlannedMessage]:
    """Messages a trigger produces for one PNR group (passenger triggers only).

    The lead's keys are the plain (group, type, channel, reservation) key; other
    passengers of an all-passenger trigger get the group id suffixed with their URN, so
    one family is told once per person and channel. Recipients sharing an address are
    told once. ``subject_key`` (a card, a load or a transfer) stands in for the
    reservation part of the key, so that two cards or rides of one group are distinct.
    ``served`` narrows the channels to those a wired provider delivers.
    """
    trigger = TRIGGERS[type]
    if trigger.recipients is RecipientKind.OPERATORS:
        raise InvalidInputError(f"{type.value} is addressed to operators", field="type")
    supported = tuple(supported_languages)
    people = (
        group.passengers if trigger.recipients is RecipientKind.ALL_PASSENGERS else (group.lead,)
    )
    wanted = tuple(channels) if channels is not None else trigger.channels
    out: list[PlannedMessage] = []
    seen: set[tuple[Channel, str]] = set()
    for person in people:
        available = passenger_channels(person, capabilities)
        if served is not None:
            available = available & served
        language = choose_language(person.contact.language, airport_language, supported)
        recipient = Recipient(person.urn, person.contact, available, person.contact.language)
        gid = group.group_id if person is group.lead else f"{group.group_id}/{person.urn}"
        for channel in resolve_channels(wanted, available):
            address = channel_address(person.contact, channel) or str(person.urn)
            if (channel, address) in seen:
                continue
            seen.add((channel, address))
            key_subject = subject_key if subject_key is not None else reservation_urn
            out.append(
                PlannedMessage(
                    type=type,
                    group_id=group.group_id,
                    recipient=recipient,
                    channel=channel,
                    language=language,
                    dedup_key=dedup_key(gid, type, channel, key_subject),
                    reservation_urn=reservation_urn,
                    subject_key=subject_key,
                )
            )
    return out


# --------------------------------------------------------------------------- delivery

#: a message in one of these states is never sent again under the same key
_SETTLED = frozenset(
    {
        NotificationStatus.SENT,
        NotificationStatus.DELIVERED,
        NotificationStatus.BOUNCED,
        NotificationStatus.FAILED,
    }
)
_REACHED = frozenset({NotificationStatus.SENT, NotificationStatus.DELIVERED})
_UNREACHED = frozenset({NotificationStatus.BOUNCED, NotificationStatus.FAILED})


def notification_urn(key: str) -> Urn:
    """The notification's URN, minted from its dedup key (a retry names the same record)."""
    return Urn("notification", "n-" + key.split(":", 1)[-1][:24])


def fallback_key(original: str, channel: Channel) -> str:
    """The key of the one fallback of ``original`` on ``channel``."""
    return idempotency_key("notification-fallback", original, channel.value)


@attrs.frozen
class DeliveryReport:
    """What one delivery run did: the records as they stand, reviews it raised."""

    notifications: tuple[Notification, ...]
    reviews: tuple[ManualReviewItem, ...] = ()
    pending: tuple[Notification, ...] = ()  # transient failures a retry sends again

    @property
    def delivered(self) -> tuple[str, ...]:
        """Channels on which the message went out (sorted, no repeats)."""
        return tuple(sorted({n.channel.value for n in self.notifications if n.status in _REACHED}))


@attrs.frozen
class _Job:
    planned: PlannedMessage
    fallback_for: Notification | None = None


def message_data(deps: CareDeps, sub_case: SubCase, **extra: Any) -> dict[str, Any]:
    """The values every template sees for a sub-case (never an address)."""
    tz = sub_case.stay_plan.timezone if sub_case.stay_plan is not None else "UTC"
    return {
        "case_urn": str(without_status(sub_case.case_urn)),
        "sub_case_urn": str(without_status(sub_case.urn)),
        "group_id": sub_case.group.group_id,
        "pnr": sub_case.group.pnr_urn.id,
        "timezone": tz,
        "next_departure": sub_case.next_departure,
        "passenger_link": deps.links.passenger(sub_case.airline_urn, sub_case.urn),
        **extra,
    }


class _Renderer:
    """Renders each (type, language, variant) once per delivery run."""

    def __init__(self, deps: CareDeps, airline: str, data: Mapping[str, Any]) -> None:
        self.r = deps.need_renderer()
        self.airline = airline
        self.data = data
        self._cache: dict[tuple[Any, ...], RenderedMessage] = {}

    def message(self, job: _Job) -> RenderedMessage:
        m = job.planned
        full = m.channel is Channel.EMAIL or job.fallback_for is not None
        key = (m.type, m.language, m.channel is Channel.EMAIL, full, m.recipient.contact.name)
        if key in self._cache:
            return self._cache[key]
        data = {
            **self.data,
            "recipient_name": m.recipient.contact.name,
            "airline_code": self.airline,
        }
        out = self.r.render_notification(m.type, m.language, self.airline, data)
        voucher = self.data.get("voucher")
        if full and isinstance(voucher, VoucherContent):
            v = self.r.render_voucher(voucher, m.language)
            if m.channel is Channel.EMAIL:
                out = attrs.evolve(
                    out,
                    html=v.html,
                    text=f"{out.text}\n\n{v.text}",
                    attachments=(*out.attachments, *v.attachments),
                )
            else:  # a fallback on SMS or WhatsApp carries the whole voucher as text
                out = attrs.evolve(out, html=None, text=f"{out.text}\n\n{v.text}")
        elif m.channel is not Channel.EMAIL:
            out = attrs.evolve(out, html=None, attachments=())
        self._cache[key] = out
        return out


def _record(
    tenant: TenantContext,
    sub_case: SubCase,
    job: _Job,
    existing: Notification | None,
    **changes: Any,
) -> Notification:
    m = job.planned
    if existing is not None:
        return attrs.evolve(existing, **changes)
    base = Notification(
        urn=notification_urn(m.dedup_key),
        airline_urn=tenant.airline_urn,
        case_urn=without_status(sub_case.case_urn),
        group_id=m.group_id,
        type=m.type.value,
        channel=m.channel,
        recipient_urn=m.recipient.urn,
        dedup_key=m.dedup_key,
        reservation_urn=m.reservation_urn,
        sub_case_urn=without_status(sub_case.urn),
        language=m.language,
        fallback_for=job.fallback_for.urn if job.fallback_for is not None else None,
        subject=m.subject_key,
    )
    return attrs.evolve(base, **changes)


def _fallback(
    job: _Job, record: Notification, known: Mapping[str, Notification], queued: set[str]
) -> _Job | None:
    """The one fallback of a failed message: the next channel its recipient can receive.

    None when there is none, or when the fallback was already made and is settled.
    """
    m = job.planned
    for channel in FALLBACK.get(m.channel, ()):
        if channel not in m.recipient.channels or channel is m.channel:
            continue
        key = fallback_key(record.dedup_key, channel)
        made = known.get(key)
        if key in queued or (made is not None and made.status in _SETTLED):
            return None  # once is enough
        queued.add(key)
        return _Job(attrs.evolve(m, channel=channel, dedup_key=key), record)
    return None


async def deliver(
    deps: CareDeps,
    tenant: TenantContext,
    sub_case: SubCase,
    type: NotificationType,
    *,
    data: Mapping[str, Any],
    reservation_urn: Urn | None = None,
    subject_key: str | None = None,
    channels: Sequence[Channel] | None = None,
    airport_language: str | None = None,
    existing: Sequence[Notification] | None = None,
    final_attempt: bool = True,
) -> DeliveryReport:
    """Send ``type`` to the group of ``sub_case`` once per channel, in its language.

    The language is the contact's, then ``airport_language``, then English (each only if
    templates exist). ``channels`` (default: the trigger's) are narrowed to what the
    recipient can receive and a wired provider delivers. Every attempt is recorded on
    the notification (attempts, last error) and audited, never with an address.

    * A message already SENT or DELIVERED under its key is not sent again; a repeat run
      only retries what is still QUEUED.
    * A permanent failure (or a transient one on the ``final_attempt``) marks it FAILED
      and sends it once on the next channel of :data:`FALLBACK` the recipient has.
    * A transient failure otherwise leaves it QUEUED and raises
      :class:`~nexa_core.errors.TransientProviderError` after recording (the engine retries).
    * No deliverable channel, or every channel failed: a NOTIFICATION review item.

    ``existing`` (the group's notifications) skips the store read when the caller has them.
    """
    store = deps.store
    renderer = _Renderer(deps, tenant.airline_urn.id, data)
    served = frozenset(c for p in deps.messages for c in p.channels)
    planned = plan_group_messages(
        type,
        sub_case.group,
        airport_language=airport_language,
        supported_languages=renderer.r.languages(tenant.airline_urn.id),
        reservation_urn=reservation_urn,
        subject_key=subject_key,
        channels=channels,
        served=served,
    )
    if not planned:
        review = await _unreachable(
            deps, tenant, sub_case, type, "no deliverable channel (no contact a provider serves)"
        )
        return DeliveryReport((), (review,))
    if existing is None:
        existing = await store.notifications.find(tenant, group_id=sub_case.group.group_id)
    report = await _run(
        deps,
        tenant,
        sub_case,
        [_Job(m) for m in planned],
        renderer,
        {n.dedup_key: n for n in existing},
        final_attempt=final_attempt,
    )
    if not any(n.status in _REACHED for n in report.notifications):
        errors = "; ".join(sorted({n.last_error or n.status.value for n in report.notifications}))
        review = await _unreachable(deps, tenant, sub_case, type, errors)
        return attrs.evolve(report, reviews=(*report.reviews, review))
    return report


async def _run(
    deps: CareDeps,
    tenant: TenantContext,
    sub_case: SubCase,
    jobs: Sequence[_Job],
    renderer: _Renderer,
    known: Mapping[str, Notification],
    *,
    final_attempt: bool,
) -> DeliveryReport:
    """Send ``jobs`` (and the fallbacks their failures call for); one commit at the end."""
    known = dict(known)
    queued = {j.planned.dedup_key for j in jobs}
    queue = list(jobs)
    out: dict[str, Notification] = {}
    fresh: dict[str, Notification] = {}  # records this run adds (key → record)
    changed: dict[str, Notification] = {}
    audits: list[AuditEntry] = []
    pending: list[Notification] = []
    while queue:
        job = queue.pop(0)
        m = job.planned
        record = known.get(m.dedup_key)
        if record is not None and record.status in _SETTLED:
            out[m.dedup_key] = record
            if record.status in _UNREACHED and job.fallback_for is None:
                nxt = _fallback(job, record, known, queued)
                if nxt is not None:
                    queue.append(nxt)
            continue
        new, entry, retry = await _attempt(
            deps, tenant, sub_case, job, record, renderer, final_attempt=final_attempt
        )
        audits.append(entry)
        if record is None:
            fresh[m.dedup_key] = new
        else:
            changed[m.dedup_key] = new
        known[m.dedup_key] = new
        out[m.dedup_key] = new
        if retry:
            pending.append(new)
        elif new.status is NotificationStatus.FAILED and job.fallback_for is None:
            nxt = _fallback(job, new, known, queued)
            if nxt is not None:
                queue.append(nxt)
    if fresh or changed:
        async with deps.store.transaction() as tx:
            for key, n in fresh.items():
                out[key] = await tx.notifications.add(tenant, n)
            for key, n in changed.items():
                out[key] = await tx.notifications.update(tenant, n)
            for entry in audits:
                await tx.audit.append(tenant, entry)
    if pending:
        raise TransientProviderError(
            f"{len(pending)} message(s) for group {sub_case.group.group_id} will be retried",
            retryable=True,
        )
    return DeliveryReport(tuple(out.values()))


async def _attempt(
    deps: CareDeps,
    tenant: TenantContext,
    sub_case: SubCase,
    job: _Job,
    record: Notification | None,
    renderer: _Renderer,
    *,
    final_attempt: bool,
) -> tuple[Notification, AuditEntry, bool]:
    """One provider call for one message: the record after it, its audit entry, and
    whether a retry should send it again."""
    m = job.planned
    info = {
        "type": m.type.value,
        "channel": m.channel.value,
        "language": m.language,
        "fallback": job.fallback_for is not None,
    }
    attempts = (record.attempts if record is not None else 0) + 1
    provider = deps.provider_for(m.channel)
    try:
        if provider is None:
            raise ConfigurationError(f"no notification provider serves {m.channel.value}")
        rendered = renderer.message(job)
        message = OutboundMessage(
            airline_urn=tenant.airline_urn,
            channel=m.channel,
            to=channel_address(m.recipient.contact, m.channel) or str(m.recipient.urn),
            subject=rendered.subject,
            text=rendered.text,
            html=rendered.html,
            dedup_key=m.dedup_key,
            attachments=rendered.attachments,
        )
        result = await deps.call(
            provider.name, "notification", functools.partial(provider.send, message)
        )
    except (ProviderError, RenderError, ConfigurationError) as exc:
        retry = exc.retryable and not final_attempt
        reason = " ".join(str(exc).split())[:200]
        new = _record(
            tenant,
            sub_case,
            job,
            record,
            status=NotificationStatus.QUEUED if retry else NotificationStatus.FAILED,
            attempts=attempts,
            last_error=reason,
        )
        entry = audit_entry(
            deps,
            tenant,
            "notification.failed",
            new.urn,
            reason,
            {},
            {**info, "attempt": attempts, "retryable": retry, "code": exc.code},
        )
        return new, entry, retry
    new = _record(
        tenant,
        sub_case,
        job,
        record,
        status=NotificationStatus.SENT,
        attempts=attempts,
        provider_message_id=result.provider_message_id,
        sent_at=deps.clock.now(),
        last_error=None,
    )
    entry = audit_entry(
        deps,
        tenant,
        "notification.sent",
        new.urn,
        f"sent via {provider.name}",
        {},
        {**info, "attempt": attempts, "provider_message_id": result.provider_message_id},
    )
    return new, entry, False


def _review_urn(sub_case: SubCase, type: NotificationType) -> Urn:
    key = idempotency_key("notification", sub_case.group.group_id, type.value, "-", sub_case.urn)
    return Urn("review", "rv-" + key.split(":", 1)[1][:20])


async def _unreachable(
    deps: CareDeps, tenant: TenantContext, sub_case: SubCase, type: NotificationType, why: str
) -> ManualReviewItem:
    return await open_review(
        deps,
        deps.store,
        tenant,
        _review_urn(sub_case, type),
        without_status(sub_case.case_urn),
        ReviewCategory.NOTIFICATION,
        f"{type.value} could not reach group {sub_case.group.group_id}: {why}",
        [sub_case.group.group_id],
    )


# --------------------------------------------------------------------------- entry points


async def deliver_voucher(
    deps: CareDeps,
    tenant: TenantContext,
    sub_case: SubCase,
    voucher: VoucherContent,
    *,
    channels: Sequence[Channel] | None = None,
    airport_language: str | None = None,
    existing: Sequence[Notification] | None = None,
    final_attempt: bool = True,
) -> DeliveryReport:
    """``voucher.issued`` to the lead: email (HTML + text + QR PNG) and SMS (short, with
    the passenger page link), in the lead's language (see :func:`deliver`)."""
    return await deliver(
        deps,
        tenant,
        sub_case,
        NotificationType.VOUCHER_ISSUED,
        data=message_data(deps, sub_case, voucher=voucher),
        reservation_urn=voucher.reservation_urn,
        channels=channels,
        airport_language=airport_language,
        existing=existing,
        final_attempt=final_attempt,
    )


async def announce_transfer(
    deps: CareDeps,
    tenant: TenantContext,
    sub_case: SubCase,
    transfer: Transfer,
    *,
    airport_language: str | None = None,
) -> DeliveryReport:
    """``transport.dispatched`` to the lead (SMS and push, fallbacks as usual)."""
    return await deliver(
        deps,
        tenant,
        sub_case,
        NotificationType.TRANSPORT_DISPATCHED,
        data=message_data(deps, sub_case, transfer=transfer),
        subject_key=str(without_status(transfer.urn)),
        airport_language=airport_language,
    )


async def announce_drop(
    deps: CareDeps,
    tenant: TenantContext,
    sub_case: SubCase,
    card: IssuedCard,
    drop: CardDrop,
    *,
    airport_language: str | None = None,
) -> DeliveryReport:
    """``wallet.card-loaded`` for one drop (push, SMS fallback)."""
    return await deliver(
        deps,
        tenant,
        sub_case,
        NotificationType.CARD_LOADED,
        data=message_data(
            deps,
            sub_case,
            card_urn=str(without_status(card.urn)),
            amount=drop.amount,
            meal=drop.label,
            loaded=card.loaded,
            reveal_link=deps.links.card_reveal(tenant.airline_urn, sub_case.urn, card.urn),
        ),
        subject_key=drop.key,
        airport_language=airport_language,
    )


def _job_for(record: Notification, sub_case: SubCase, key: str) -> _Job:
    """The message ``record`` was, rebuilt from the sub-case (under ``key``)."""
    person = next(
        (
            p
            for p in sub_case.group.passengers
            if without_status(p.urn) == without_status(record.recipient_urn)
        ),
        sub_case.group.lead,
    )
    recipient = Recipient(
        person.urn, person.contact, passenger_channels(person), person.contact.language
    )
    planned = PlannedMessage(
        NotificationType(record.type),
        record.group_id,
        recipient,
        record.channel,
        record.language or "en",
        key,
        record.reservation_urn,
        record.subject,
    )
    return _Job(planned)


async def _data_for(
    deps: CareDeps, tenant: TenantContext, record: Notification, records: CareRecords
) -> dict[str, Any]:
    """What the templates of ``record``'s type need, read from the records."""
    sub = records.sub_case
    kind = NotificationType(record.type)
    if kind in (NotificationType.VOUCHER_ISSUED, NotificationType.OFFER_READY):
        voucher = records.voucher(deps)
        if voucher is None:
            raise ConflictError(
                f"{record.urn}: the sub-case has no confirmed reservation any more",
                urn=str(record.urn),
            )
        return message_data(deps, sub, voucher=voucher)
    if kind is NotificationType.TRANSPORT_DISPATCHED and record.subject:
        transfer = await deps.store.transfers.get(tenant, Urn.parse(record.subject))
        return message_data(deps, sub, transfer=transfer)
    if kind is NotificationType.CARD_LOADED and records.card is not None:
        drop = next((d for d in records.card.drops if d.key == record.subject), None)
        if drop is not None:
            return message_data(
                deps,
                sub,
                card_urn=str(without_status(records.card.urn)),
                amount=drop.amount,
                meal=drop.label,
                loaded=records.card.loaded,
                reveal_link=deps.links.card_reveal(tenant.airline_urn, sub.urn, records.card.urn),
            )
    raise ConflictError(
        f"{record.urn} ({record.type}) cannot be rebuilt from the current records",
        urn=str(record.urn),
    )


@attrs.frozen
class ReceiptOutcome:
    """A delivery receipt applied: the record, whether it changed, the fallback sent."""

    notification: Notification
    changed: bool
    fallback: Notification | None = None


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
) -> ReceiptOutcome:
    """Apply a provider's delivery receipt (email event webhook, SMS status callback).

    DELIVERED, BOUNCED or FAILED; a redelivery of ``event_urn`` changes nothing. A bounce
    or failure is audited and the message goes out once on its fallback channel (a
    bounced voucher email: the whole voucher by SMS).
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
    tenant = await on_case_timeline(store, tenant, record.case_urn)
    key = idempotency_key("webhook", event_urn)
    if await store.idempotency.lookup(tenant, "webhook", key) is not None:
        return ReceiptOutcome(record, False)
    moves = {
        NotificationStatus.DELIVERED: {NotificationStatus.QUEUED, NotificationStatus.SENT},
        NotificationStatus.BOUNCED: {
            NotificationStatus.QUEUED,
            NotificationStatus.SENT,
            NotificationStatus.DELIVERED,
        },
        NotificationStatus.FAILED: {
            NotificationStatus.QUEUED,
            NotificationStatus.SENT,
            NotificationStatus.DELIVERED,
        },
    }
    async with store.transaction() as tx:
        claim = await tx.idempotency.remember(tenant, "webhook", key, {"status": status.value})
        record = await tx.notifications.get(tenant, record.urn)
        if claim.replayed or record.status not in moves[status]:
            return ReceiptOutcome(record, False)
        before = record.status
        record = await tx.notifications.update(
            tenant, attrs.evolve(record, status=status, last_error=reason[:200] or None)
        )
        action = {
            NotificationStatus.DELIVERED: "notification.delivered",
            NotificationStatus.BOUNCED: "notification.bounced",
            NotificationStatus.FAILED: "notification.failed",
        }[status]
        await tx.audit.append(
            tenant,
            audit_entry(
                deps,
                tenant,
                action,
                record.urn,
                reason or f"delivery receipt {event_urn}",
                {"status": before.value},
                {"status": status.value, "channel": record.channel.value, "type": record.type},
            ),
        )
    if status is NotificationStatus.DELIVERED or record.sub_case_urn is None:
        return ReceiptOutcome(record, True)
    fallback = await _send_fallback(deps, tenant, record)
    return ReceiptOutcome(record, True, fallback)


async def _send_fallback(
    deps: CareDeps, tenant: TenantContext, record: Notification
) -> Notification | None:
    """Send the one fallback of a failed ``record`` (None when it has none or was sent)."""
    if record.fallback_for is not None or record.sub_case_urn is None:
        return None  # a fallback has no fallback of its own
    records = await care_records(deps, tenant, record.sub_case_urn)
    job = _job_for(record, records.sub_case, record.dedup_key)
    known = {
        n.dedup_key: n
        for n in await deps.store.notifications.find(tenant, group_id=record.group_id)
    }
    nxt = _fallback(job, record, known, {record.dedup_key})
    if nxt is None:
        return None
    data = await _data_for(deps, tenant, record, records)
    report = await _run(
        deps,
        tenant,
        records.sub_case,
        [nxt],
        _Renderer(deps, tenant.airline_urn.id, data),
        known,
        final_attempt=True,
    )
    return report.notifications[0] if report.notifications else None


async def resend_notification(
    deps: CareDeps, tenant: TenantContext, notification_urn: Urn, *, action_seq: int
) -> Notification:
    """An operator's explicit resend: a new action with its own key (``action_seq`` ≥ 1
    numbers the resends of that message; repeating one does not send again)."""
    original = await deps.store.notifications.get(tenant, notification_urn)
    if original.sub_case_urn is None:
        raise ConflictError(
            f"{notification_urn} is not tied to a sub-case and cannot be rebuilt",
            urn=str(notification_urn),
        )
    key = resend_key(original.dedup_key, action_seq)
    records = await care_records(deps, tenant, original.sub_case_urn)
    data = await _data_for(deps, tenant, original, records)
    job = _job_for(original, records.sub_case, key)
    known = {n.dedup_key: n for n in await deps.store.notifications.find(tenant, dedup_key=key)}
    report = await _run(
        deps,
        tenant,
        records.sub_case,
        [job],
        _Renderer(deps, tenant.airline_urn.id, data),
        known,
        final_attempt=True,
    )
    await deps.store.audit.append(
        tenant,
        audit_entry(
            deps,
            tenant,
            "notification.resend",
            original.urn,
            f"explicit resend #{action_seq}",
            {},
            {"new_key": key, "status": report.notifications[0].status.value},
        ),
    )
    return report.notifications[0]
