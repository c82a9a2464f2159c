"""Notification selection: triggers, recipients, language, channels and dedup keys.

Pure rules (facts file §17). The application service
(:func:`nexa_core.care.services.run_notification_stage`) turns the plan into sends.

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
from collections.abc import Iterable, Mapping, Sequence

import attrs

from nexa_core.errors import InvalidInputError
from nexa_core.idempotency import idempotency_key
from nexa_core.model import Channel, Contact, PassengerGroup, PassengerRef
from nexa_core.urn import Urn, without_status

__all__ = [
    "FALLBACK",
    "TRIGGERS",
    "NotificationType",
    "PlannedMessage",
    "Recipient",
    "RecipientKind",
    "Trigger",
    "channel_address",
    "choose_language",
    "dedup_key",
    "passenger_channels",
    "plan_group_messages",
    "resend_key",
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
    _N.VOUCHER_ISSUED: Trigger(_N.VOUCHER_ISSUED, (Channel.EMAIL,), RecipientKind.LEAD_PASSENGER),
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

#: channel → what to try instead, in order, when a recipient cannot receive it
FALLBACK: Mapping[Channel, tuple[Channel, ...]] = {
    Channel.WHATSAPP: (Channel.SMS, Channel.EMAIL),
    Channel.PUSH: (Channel.SMS, Channel.EMAIL),
    Channel.SMS: (Channel.EMAIL,),
    Channel.EMAIL: (),
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
) -> list[PlannedMessage]:
    """Messages a trigger produces for one PNR group (passenger triggers only).

    The lead's keys are the plain (group, type, channel, reservation) key; other
    passengers of an all-passenger trigger get the group id suffixed with their URN, so
    one family is told once per person and channel. Recipients sharing an address are
    told once. ``subject_key`` (a card, a load or a transfer) stands in for the
    reservation part of the key, so that two cards or rides of one group are distinct.
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
