"""Care beyond the room: prepaid cards, ground transport, notifications."""

from __future__ import annotations

import enum
from datetime import datetime

import attrs

from nexa_core.model.common import Money, StateMachine
from nexa_core.urn import Urn

__all__ = [
    "TRANSFER_LIFECYCLE",
    "CardDrop",
    "CardStatus",
    "Channel",
    "DispatchMode",
    "IssuedCard",
    "Notification",
    "NotificationStatus",
    "Transfer",
    "TransferDirection",
    "TransferStatus",
    "Vehicle",
]


class CardStatus(enum.StrEnum):
    """Virtual card lifecycle."""

    ISSUED = "ISSUED"
    ACTIVE = "ACTIVE"
    CANCELLED = "CANCELLED"


@attrs.frozen
class CardDrop:
    """One scheduled load of a meal card: which meal, when it is due, how much.

    ``key`` is the load's idempotency key (the partner sees it); ``loaded_at`` is set once
    the partner confirmed the load.
    """

    label: str  # "single" | "breakfast" | "lunch" | "dinner"
    due_at: datetime
    amount: Money
    key: str
    loaded_at: datetime | None = None


@attrs.frozen
class IssuedCard:
    """A virtual prepaid card per (case, group); never a PAN or CVV.

    ``drops`` is the funding schedule (the stay's meal windows); ``loaded`` is the sum of
    the drops loaded so far and ``spent`` follows the card webhooks.
    """

    urn: Urn
    airline_urn: Urn
    case_urn: Urn
    group_id: str
    holder_urn: Urn  # lead passenger
    currency: str
    loaded: Money
    spent: Money
    status: CardStatus = CardStatus.ISSUED
    vendor_ref: str | None = None
    version: int = 0
    sub_case_urn: Urn | None = None
    per_day: Money | None = None  # allowance per passenger and day
    passengers: int = 0  # passengers the allowance counts (infants do not)
    drops: tuple[CardDrop, ...] = ()

    @property
    def planned(self) -> Money:
        """The sum of every scheduled drop (loaded or not)."""
        total = Money(0, self.currency)
        for drop in self.drops:
            total = total + drop.amount
        return total

    @property
    def balance(self) -> Money:
        """Loaded minus spent."""
        return Money(self.loaded.amount - self.spent.amount, self.currency)


class Vehicle(enum.StrEnum):
    """Vehicle class of a transfer."""

    SHUTTLE = "SHUTTLE"
    PRIVATE_CAR = "PRIVATE_CAR"


class DispatchMode(enum.StrEnum):
    """When transport is dispatched."""

    AUTOMATIC = "AUTOMATIC"
    ON_DEMAND = "ON_DEMAND"
    MANUAL = "MANUAL"


class TransferDirection(enum.StrEnum):
    """Which way a leg goes."""

    AIRPORT_TO_HOTEL = "AIRPORT_TO_HOTEL"
    HOTEL_TO_AIRPORT = "HOTEL_TO_AIRPORT"


class TransferStatus(enum.StrEnum):
    """Transfer lifecycle, driven by vendor webhooks."""

    REQUESTED = "REQUESTED"
    DISPATCHED = "DISPATCHED"
    IN_PROGRESS = "IN_PROGRESS"
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"
    FAILED = "FAILED"


_T = TransferStatus
TRANSFER_LIFECYCLE: StateMachine[TransferStatus] = StateMachine(
    "transfer",
    {
        _T.REQUESTED: frozenset({_T.DISPATCHED, _T.CANCELLED, _T.FAILED}),
        _T.DISPATCHED: frozenset({_T.IN_PROGRESS, _T.CANCELLED, _T.FAILED}),
        _T.IN_PROGRESS: frozenset({_T.COMPLETED, _T.FAILED}),
        _T.COMPLETED: frozenset(),
        _T.CANCELLED: frozenset(),
        _T.FAILED: frozenset(),
    },
)


@attrs.frozen
class Transfer:
    """One ground-transport leg for one or more PNR groups."""

    urn: Urn
    airline_urn: Urn
    case_urn: Urn
    sub_case_urns: tuple[Urn, ...]
    direction: TransferDirection
    vehicle: Vehicle
    pickup_at: datetime
    passengers: int
    status: TransferStatus = TransferStatus.REQUESTED
    vendor: str | None = None
    price: Money | None = None
    no_show_fee: Money | None = None
    version: int = 0
    mode: DispatchMode | None = None  # how it was dispatched (AUTOMATIC, ON_DEMAND, MANUAL)
    vendor_ref: str | None = None  # the vendor's ride id, once dispatched
    eta_minutes: int | None = None
    instructions: str | None = None  # an operator's note to the driver (MANUAL)
    late_cancellation: bool = False  # cancelled inside the vendor's free window


class Channel(enum.StrEnum):
    """Delivery channel."""

    EMAIL = "EMAIL"
    SMS = "SMS"
    WHATSAPP = "WHATSAPP"
    PUSH = "PUSH"


class NotificationStatus(enum.StrEnum):
    """Delivery state of one message."""

    QUEUED = "QUEUED"
    SENT = "SENT"
    DELIVERED = "DELIVERED"
    BOUNCED = "BOUNCED"
    FAILED = "FAILED"


@attrs.frozen
class Notification:
    """One message to one recipient on one channel."""

    urn: Urn
    airline_urn: Urn
    case_urn: Urn
    group_id: str
    type: str  # e.g. "voucher.issued"
    channel: Channel
    recipient_urn: Urn
    dedup_key: str
    status: NotificationStatus = NotificationStatus.QUEUED
    reservation_urn: Urn | None = None
    provider_message_id: str | None = None
    sent_at: datetime | None = None
    version: int = 0
    sub_case_urn: Urn | None = None
    language: str | None = None  # the template language chosen
    attempts: int = 0  # provider calls made for this message
    last_error: str | None = None  # the last failure's one-line reason (never an address)
    fallback_for: Urn | None = None  # the notification this one replaces after a failure
    subject: str | None = None  # the card drop or ride a message is about (its URN or key)
