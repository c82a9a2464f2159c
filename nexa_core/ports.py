"""Ports: the ``typing.Protocol`` contracts adapters implement.

Every port is async (pure computations stay sync and live elsewhere). Each docstring says
which :mod:`nexa_core.errors` it may raise; anything else escaping an adapter is a bug in
that adapter. Every store method takes the caller's :class:`TenantContext` and never
returns or changes another tenant's record (it behaves as :class:`NotFoundError`).

Providers: :class:`HotelProvider`, :class:`BookingProvider`, :class:`PaymentProvider`,
:class:`TransportProvider`, :class:`NotificationProvider`, :class:`AirlineProvider`,
:class:`PolicySynthesizer`, :class:`ExceptionTriage`, :class:`SecretsProvider`,
:class:`AirportCatalog`. Flight data: :class:`FlightPredictor`, :class:`FlightStatusProvider`.
Stores: :class:`OperationalStore` (cases, sub-cases, policies, demands, waves,
reservations, contracts, cards, transfers, notifications, reviews, dead letters, audit,
idempotency, outbox), :class:`SnapshotStore`, :class:`Coordination` (holds, locks, rate
limits, breakers). Infrastructure: :class:`Clock`, :class:`IdGenerator`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import date, datetime, timedelta
from typing import Any, Protocol, TypeVar, runtime_checkable

import attrs

from nexa_core.errors import InvalidInputError
from nexa_core.model import (
    AllocationWave,
    AuditEntry,
    CardAccount,
    Case,
    Channel,
    Contact,
    Contract,
    DemandRequest,
    DomainEvent,
    Hold,
    HotelOffer,
    IssuedCard,
    ManualReviewItem,
    Money,
    Notification,
    PassengerGroup,
    PaymentMode,
    PolicyRecord,
    Recommendation,
    Reservation,
    ReservationStatus,
    RoomType,
    SubCase,
    Transfer,
    TransferDirection,
    Vehicle,
)
from nexa_core.model.case import Airport, Flight
from nexa_core.tenancy import TenantContext
from nexa_core.urn import Urn

__all__ = [
    "AggregateStore",
    "AirlineProvider",
    "AirportCatalog",
    "AuditLog",
    "AuditQuery",
    "BookingConfirmation",
    "BookingProvider",
    "BookingRequest",
    "BreakerSettings",
    "CardIssueRequest",
    "CardIssued",
    "CircuitBreakers",
    "Clock",
    "Coordination",
    "DeadLetter",
    "EntityLocks",
    "ExceptionTriage",
    "FlightPrediction",
    "FlightPredictor",
    "FlightStatus",
    "FlightStatusProvider",
    "HotelProvider",
    "HotelSearch",
    "IdGenerator",
    "IdempotencyRecord",
    "IdempotencyStore",
    "InventoryHolds",
    "LockEvent",
    "LockGrant",
    "NotificationProvider",
    "OperationalStore",
    "OutboundMessage",
    "Outbox",
    "OutboxRecord",
    "PaymentProvider",
    "PolicySynthesizer",
    "RateLimiter",
    "ScheduledFlight",
    "SecretsProvider",
    "SendResult",
    "SnapshotStore",
    "TransferDispatch",
    "TransferQuote",
    "TransferRequest",
    "TransportProvider",
]

A = TypeVar("A")


# --------------------------------------------------------------------------- infrastructure


@runtime_checkable
class Clock(Protocol):
    """Time source (inject a fake in tests)."""

    def now(self) -> datetime:
        """The current time, timezone-aware (UTC)."""
        ...


@runtime_checkable
class IdGenerator(Protocol):
    """Mints Nexa-side URNs."""

    def new(self, entity: str) -> Urn:
        """A fresh URN of ``entity`` (unique across processes)."""
        ...


# --------------------------------------------------------------------------- stores


class AggregateStore(Protocol[A]):
    """Tenant-scoped, versioned records of one aggregate type.

    Versions: ``add`` stores version 1 (whatever the item says); ``update`` succeeds only
    when the item's ``version`` equals the stored one and stores ``version + 1``.
    Raises: :class:`DuplicateError` (add of an existing URN), :class:`NotFoundError`
    (unknown or other tenant's URN), :class:`ConcurrencyError` (stale version; nothing
    changed), :class:`PIIRejectedError` (a field looks like a card number).
    """

    async def add(self, tenant: TenantContext, item: A) -> A:
        """Insert a new record; returns it at version 1."""
        ...

    async def get(self, tenant: TenantContext, urn: Urn) -> A:
        """The record with that URN (status segment ignored)."""
        ...

    async def update(self, tenant: TenantContext, item: A) -> A:
        """Replace the record if ``item.version`` is current; returns it at version + 1."""
        ...

    async def find(
        self, tenant: TenantContext, *, limit: int | None = None, **where: object
    ) -> list[A]:
        """Records whose attributes equal ``where`` (URNs/enums compare by value).

        Only the attributes the adapter indexes are allowed (see each store's
        ``indexed``); an unknown key raises :class:`InvalidInputError`.
        Results are ordered by URN.
        """
        ...


@attrs.frozen
class AuditQuery:
    """Filters for :meth:`AuditLog.query` (all optional, combined with AND)."""

    entity_urn: Urn | None = None
    action: str | None = None
    correlation_urn: Urn | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: int | None = None


class AuditLog(Protocol):
    """Append-only audit. There is no update and no delete."""

    async def append(self, tenant: TenantContext, entry: AuditEntry) -> AuditEntry:
        """Store an entry (its ``airline_urn`` must be the tenant's: else NotFoundError)."""
        ...

    async def query(self, tenant: TenantContext, query: AuditQuery) -> list[AuditEntry]:
        """Entries of the tenant matching ``query``, oldest first."""
        ...


@attrs.frozen
class IdempotencyRecord:
    """What an idempotent action produced the first time, and whether this is a replay."""

    scope: str
    key: str
    result: Mapping[str, Any]
    created_at: datetime
    expires_at: datetime
    replayed: bool = False


class IdempotencyStore(Protocol):
    """Remembers the first result per (tenant, scope, key) for a TTL (default 7 days).

    Keys come from upstream ids (see :func:`nexa_core.idempotency.idempotency_key`),
    never from request or job ids.
    """

    async def remember(
        self,
        tenant: TenantContext,
        scope: str,
        key: str,
        result: Mapping[str, Any],
        *,
        ttl: timedelta = timedelta(days=7),
    ) -> IdempotencyRecord:
        """Store ``result`` unless a live record exists; returns the stored one.

        The returned record has ``replayed=True`` when an earlier result was kept.
        """
        ...

    async def lookup(self, tenant: TenantContext, scope: str, key: str) -> IdempotencyRecord | None:
        """The live record, if any (``replayed=True``)."""
        ...


@attrs.frozen
class OutboxRecord:
    """An event in the durable record, with its position (strictly increasing)."""

    position: int
    event: DomainEvent


class Outbox(Protocol):
    """Insert-only durable record of events, written in the same transaction as the state.

    Consumers (the relay) read from a stored position; records are never updated.
    """

    async def append(self, tenant: TenantContext, event: DomainEvent) -> None:
        """Add an event (in the current transaction when inside one)."""
        ...

    async def read_after(self, position: int, *, limit: int = 100) -> list[OutboxRecord]:
        """Committed records with a position greater than ``position``, in order.

        System-level (every tenant): only relays call it.
        """
        ...

    async def head(self) -> int:
        """The highest position a relay can read now (0 when empty): ``head − position``
        is a consumer's lag. System-level, like :meth:`read_after`."""
        ...

    async def load_position(self, consumer: str) -> int:
        """The last position ``consumer`` acknowledged (0 when none)."""
        ...

    async def save_position(self, consumer: str, position: int) -> None:
        """Record that ``consumer`` handled every record up to ``position``."""
        ...


@attrs.frozen
class DeadLetter:
    """A compensation that failed permanently: a forensic record, never retried silently."""

    urn: Urn  # urn:compensation-dead-letter:…
    airline_urn: Urn
    case_urn: Urn
    sub_case_urn: Urn
    step: str
    error: str
    at: datetime
    context: Mapping[str, Any] = attrs.field(factory=dict)
    version: int = 0


@runtime_checkable
class OperationalStore(Protocol):
    """Every tenant-scoped store of the operational database, plus transactions.

    ``transaction()`` yields a store whose writes commit together (state + audit +
    outbox) or not at all. Outside a transaction each call commits on its own.
    """

    @property
    def cases(self) -> AggregateStore[Case]: ...
    @property
    def sub_cases(self) -> AggregateStore[SubCase]: ...
    @property
    def policies(self) -> AggregateStore[PolicyRecord]: ...
    @property
    def demands(self) -> AggregateStore[DemandRequest]: ...
    @property
    def waves(self) -> AggregateStore[AllocationWave]: ...
    @property
    def reservations(self) -> AggregateStore[Reservation]: ...
    @property
    def contracts(self) -> AggregateStore[Contract]: ...
    @property
    def cards(self) -> AggregateStore[IssuedCard]: ...
    @property
    def transfers(self) -> AggregateStore[Transfer]: ...
    @property
    def notifications(self) -> AggregateStore[Notification]: ...
    @property
    def reviews(self) -> AggregateStore[ManualReviewItem]: ...
    @property
    def dead_letters(self) -> AggregateStore[DeadLetter]: ...
    @property
    def card_accounts(self) -> AggregateStore[CardAccount]: ...
    @property
    def audit(self) -> AuditLog: ...
    @property
    def idempotency(self) -> IdempotencyStore: ...
    @property
    def outbox(self) -> Outbox: ...

    def transaction(self) -> AbstractAsyncContextManager[OperationalStore]:
        """A unit of work: everything written through the yielded store commits atomically."""
        ...

    async def close(self) -> None:
        """Release connections."""
        ...


class SnapshotStore(Protocol):
    """Passenger read side: denormalised documents by URN, isolated per tenant."""

    async def put(self, tenant: TenantContext, urn: Urn, document: Mapping[str, Any]) -> None:
        """Write (replace) the document for ``urn``."""
        ...

    async def get(self, tenant: TenantContext, urn: Urn) -> Mapping[str, Any]:
        """The document; NotFoundError when absent or another tenant's."""
        ...

    async def delete(self, tenant: TenantContext, urn: Urn) -> None:
        """Remove the document (no error when absent)."""
        ...


# --------------------------------------------------------------------------- coordination


class InventoryHolds(Protocol):
    """Soft-holds: available = inventory − live holds − confirmed, computed atomically.

    Raises :class:`CapacityError` when not enough rooms remain, :class:`NotFoundError`
    for an unknown offer or attempt.
    """

    async def set_inventory(
        self, tenant: TenantContext, offer_urn: Urn, rooms: int, *, ttl: timedelta
    ) -> None:
        """Declare how many rooms an offer has (idempotent; keeps holds and confirmations)."""
        ...

    async def acquire(
        self,
        tenant: TenantContext,
        offer_urn: Urn,
        attempt_urn: Urn,
        rooms: int,
        *,
        ttl: timedelta,
        owner: str = "",
    ) -> Hold:
        """Hold ``rooms`` for one attempt; re-acquiring the same attempt is idempotent."""
        ...

    async def confirm(self, tenant: TenantContext, offer_urn: Urn, attempt_urn: Urn) -> None:
        """Turn a live hold into a confirmed count (idempotent)."""
        ...

    async def release(self, tenant: TenantContext, offer_urn: Urn, attempt_urn: Urn) -> None:
        """Give a hold (or a confirmation, on cancellation) back (idempotent)."""
        ...

    async def available(self, tenant: TenantContext, offer_urn: Urn) -> int:
        """Rooms left after live holds and confirmations.

        Negative when the inventory was re-declared below what is already held or
        confirmed (the shortfall); no new hold is granted until it is positive again.
        """
        ...


@attrs.frozen
class LockGrant:
    """A held entity lock and its fencing token (monotonic per entity).

    ``acquired_at``: when the owner took the lock (kept across re-entrant acquires and
    heartbeats), for "locked by … since …" messages.
    """

    entity_urn: Urn
    owner: str
    token: int
    expires_at: datetime
    acquired_at: datetime | None = None


@attrs.frozen
class LockEvent:
    """A lock change published to every subscriber of the tenant ("locked by" indicators).

    ``kind`` is ``acquired``, ``renewed`` or ``released``; an expiry is not announced (the
    ``expires_at`` of the last event tells indicators when the lock lapses on its own).
    """

    kind: str
    entity_urn: Urn
    owner: str
    token: int
    expires_at: datetime | None
    at: datetime


class EntityLocks(Protocol):
    """Operator locks tied to a live session, with fencing tokens.

    A lock lives while its owner heartbeats, and at most ``ttl`` after the last heartbeat
    (the wall-clock fallback for a dead session). Tokens come from one counter per entity
    that only grows, so a newer holder always has a larger token.
    Raises :class:`LockHeldError` (someone else holds it; ``context`` carries ``owner``,
    ``since`` and ``expires_at``), :class:`StaleFencingTokenError` (a guarded write
    presented an old token, or a heartbeat for a lost lock).
    """

    async def acquire(
        self, tenant: TenantContext, entity_urn: Urn, owner: str, *, ttl: timedelta
    ) -> LockGrant:
        """Take the lock (re-entrant for the same owner); returns a new token."""
        ...

    async def heartbeat(
        self, tenant: TenantContext, grant: LockGrant, *, ttl: timedelta
    ) -> LockGrant:
        """Extend a held lock (the live-session signal)."""
        ...

    async def release(self, tenant: TenantContext, grant: LockGrant) -> None:
        """Release if still held by that grant."""
        ...

    async def holder(self, tenant: TenantContext, entity_urn: Urn) -> LockGrant | None:
        """Who holds the lock now, if anyone."""
        ...

    async def check_token(self, tenant: TenantContext, entity_urn: Urn, token: int) -> None:
        """Raise StaleFencingTokenError if a newer token was issued for the entity."""
        ...

    def subscribe(
        self, tenant: TenantContext
    ) -> AbstractAsyncContextManager[AsyncIterator[LockEvent]]:
        """Lock changes of the tenant, from the moment the context is entered::

        async with locks.subscribe(tenant) as events:
            async for event in events: ...
        """
        ...


class RateLimiter(Protocol):
    """Cluster-wide token buckets keyed by partner and operation (``hotelbeds.booking``).

    ``rate`` tokens per second with at most ``burst`` (default ``ceil(rate)``) granted in
    any window of ``burst / rate`` seconds, however many workers share the key: with
    ``rate=20`` no one-second window ever holds more than 20 grants. Bad arguments raise
    :class:`InvalidInputError`.
    """

    async def try_acquire(self, key: str, *, rate: float, burst: int | None = None) -> bool:
        """Take one token now if available."""
        ...

    async def acquire(
        self, key: str, *, rate: float, burst: int | None = None, deadline: float
    ) -> None:
        """Wait for a token up to ``deadline`` seconds; RateLimitedError when it passes."""
        ...


@attrs.frozen
class BreakerSettings:
    """When a breaker opens (consecutive failures) and how long before a probe."""

    failure_threshold: int = 5
    cooldown: timedelta = timedelta(seconds=30)

    def __attrs_post_init__(self) -> None:
        if self.failure_threshold < 1:
            raise InvalidInputError("failure_threshold must be >= 1", field="failure_threshold")
        if self.cooldown <= timedelta(0):
            raise InvalidInputError("cooldown must be positive", field="cooldown")


class CircuitBreakers(Protocol):
    """Per-partner (and tenant) breaker state shared by every worker.

    Keys are chosen by the caller (``"<tenant>:<partner>"`` for a per-tenant breaker).
    ``closed`` → ``open`` after a run of consecutive failures; after the cool-down one
    probe is let through (``half-open``): its success closes the breaker, its failure
    opens it again.
    """

    async def allow(self, key: str) -> bool:
        """Whether a call may go out now (closed, or a half-open probe)."""
        ...

    async def record(self, key: str, *, success: bool) -> None:
        """Feed a call's outcome into the breaker."""
        ...

    async def state(self, key: str) -> str:
        """``closed``, ``open`` or ``half-open``."""
        ...


@runtime_checkable
class Coordination(Protocol):
    """The coordination store: holds, locks, rate limits and breakers."""

    @property
    def holds(self) -> InventoryHolds: ...
    @property
    def locks(self) -> EntityLocks: ...
    @property
    def rate_limits(self) -> RateLimiter: ...
    @property
    def breakers(self) -> CircuitBreakers: ...

    async def close(self) -> None:
        """Release connections."""
        ...


# --------------------------------------------------------------------------- providers


@attrs.frozen
class HotelSearch:
    """A search around an airport for a date range and a number of rooms."""

    airline_urn: Urn
    airport: Airport
    check_in: date
    check_out: date
    rooms: int
    radius_km: float = 30.0
    currency: str = "USD"


class HotelProvider(Protocol):
    """Searches a partner's inventory and returns canonical offers.

    Raises :class:`TransientProviderError` subclasses (retry or use other providers),
    :class:`PermanentProviderError` subclasses (this provider cannot answer).
    """

    name: str

    async def search(self, request: HotelSearch) -> Sequence[HotelOffer]:
        """Offers around the airport; an empty list when nothing is available."""
        ...


@attrs.frozen
class BookingRequest:
    """Book rooms of an offer for one PNR group; ``idempotency_key`` makes replays safe."""

    airline_urn: Urn
    reservation_urn: Urn
    offer: HotelOffer
    rooms: tuple[RoomType, ...]
    lead_name: str
    lead_contact: Contact
    guests: int
    payment: PaymentMode
    idempotency_key: str
    card_token: str | None = None
    special_requests: tuple[str, ...] = ()


@attrs.frozen
class BookingConfirmation:
    """A partner's confirmation echoed into a URN (``…:vendor:<v>:status:confirmed``)."""

    reservation_urn: Urn
    confirmation_urn: Urn
    total: Money
    replayed: bool = False


class BookingProvider(Protocol):
    """Books, cancels and reports the status of reservations at one partner.

    A replay of the same ``idempotency_key`` returns the first confirmation (``replayed``)
    and never books twice. Raises :class:`ProviderRejectedError` (sold out, rate gone),
    :class:`TransientProviderError` subclasses, :class:`ProviderAuthError`,
    :class:`MalformedResponseError`.
    """

    name: str

    async def book(self, request: BookingRequest) -> BookingConfirmation:
        """Create the reservation at the partner."""
        ...

    async def cancel(
        self, airline_urn: Urn, confirmation_urn: Urn, *, idempotency_key: str
    ) -> None:
        """Cancel (idempotent: cancelling a cancelled booking is a no-op)."""
        ...

    async def status(self, airline_urn: Urn, confirmation_urn: Urn) -> ReservationStatus:
        """The partner's view of the reservation."""
        ...


@attrs.frozen
class CardIssueRequest:
    """Issue one virtual card per (case, group), held by the lead passenger."""

    airline_urn: Urn
    card_urn: Urn
    case_urn: Urn
    group_id: str
    holder_urn: Urn
    currency: str
    idempotency_key: str


@attrs.frozen
class CardIssued:
    """A card's Nexa URN and the partner's reference (never a PAN)."""

    card_urn: Urn
    vendor_ref: str
    replayed: bool = False


class PaymentProvider(Protocol):
    """Virtual prepaid cards. Raises ProviderRejectedError, TransientProviderError."""

    name: str

    async def issue_card(self, request: CardIssueRequest) -> CardIssued:
        """Issue (idempotent on ``idempotency_key``)."""
        ...

    async def load(
        self, airline_urn: Urn, card: CardIssued, amount: Money, *, idempotency_key: str
    ) -> None:
        """Add funds (idempotent on ``idempotency_key``)."""
        ...

    async def cancel_card(
        self, airline_urn: Urn, card: CardIssued, *, idempotency_key: str
    ) -> None:
        """Cancel the card (idempotent)."""
        ...


@attrs.frozen
class TransferRequest:
    """A ride between airport and hotel for a number of passengers."""

    airline_urn: Urn
    transfer_urn: Urn
    direction: TransferDirection
    vehicle: Vehicle
    pickup_at: datetime
    passengers: int
    pickup: tuple[float, float]
    dropoff: tuple[float, float]
    lead_name: str = ""


@attrs.frozen
class TransferQuote:
    """A vendor's price and availability for a request."""

    vendor: str
    price: Money
    available: bool
    eta_minutes: int | None = None


@attrs.frozen
class TransferDispatch:
    """A dispatched ride; the transfer URN is the vendor's external reference."""

    transfer_urn: Urn
    vendor_ref: str
    eta_minutes: int | None = None
    replayed: bool = False


class TransportProvider(Protocol):
    """Ride-hailing or contracted carriers.

    Raises ProviderRejectedError (no vehicle in the window), TransientProviderError.
    """

    name: str

    async def quote(self, request: TransferRequest) -> TransferQuote:
        """Price and availability (no side effects)."""
        ...

    async def dispatch(self, request: TransferRequest) -> TransferDispatch:
        """Book the ride; a replay with the same transfer URN returns the same dispatch."""
        ...

    async def cancel(self, airline_urn: Urn, transfer_urn: Urn) -> Money | None:
        """Cancel; returns the no-show fee charged, if any."""
        ...


@attrs.frozen
class OutboundMessage:
    """One rendered message for one recipient on one channel."""

    airline_urn: Urn
    channel: Channel
    to: str  # address or E.164 number (never logged)
    subject: str
    text: str
    html: str | None = None
    dedup_key: str = ""
    attachments: tuple[tuple[str, str, bytes], ...] = ()  # (filename, mime type, content)


@attrs.frozen
class SendResult:
    """The provider's message id (the secondary dedup guard)."""

    provider_message_id: str
    replayed: bool = False


class NotificationProvider(Protocol):
    """Email, SMS, WhatsApp or push. Raises ProviderRejectedError (bounced address),
    TransientProviderError."""

    name: str
    channels: frozenset[Channel]

    async def send(self, message: OutboundMessage) -> SendResult:
        """Deliver; a replay of ``dedup_key`` returns the first result."""
        ...


class AirlineProvider(Protocol):
    """The airline's PSS/DCS (cache only: Nexa does not persist PNR documents)."""

    name: str

    async def flight(self, airline_urn: Urn, flight_urn: Urn) -> Flight:
        """Flight details; NotFoundError when unknown."""
        ...

    async def manifest(self, airline_urn: Urn, flight_urn: Urn) -> Sequence[PassengerGroup]:
        """Passenger groups by PNR; PIIRejectedError if documents are offered."""
        ...


class PolicySynthesizer(Protocol):
    """Natural language → policy draft. Never activates anything."""

    async def synthesize(
        self, tenant: TenantContext, description: str, context: Mapping[str, str]
    ) -> Mapping[str, Any]:
        """A draft policy document with ``confidence`` and ``warnings``."""
        ...


class ExceptionTriage(Protocol):
    """Read-only triage: at most 3 ranked recommendations for a review item.

    Implementations get read-only tools only; they can never book, cancel or notify.
    """

    async def recommend(
        self, tenant: TenantContext, item: ManualReviewItem, context: Mapping[str, Any]
    ) -> Sequence[Recommendation]:
        """Ranked recommendations (``len <= 3``)."""
        ...


class SecretsProvider(Protocol):
    """Per-tenant partner credentials under ``nexa/<tenant>/vendor/<vendor>/<name>``.

    Raises NotFoundError when a secret is missing. Values never appear in logs or reprs.
    """

    async def get(self, tenant: Urn, vendor: str, name: str) -> str:
        """The secret's value."""
        ...


class AirportCatalog(Protocol):
    """IATA lookup. Raises UnknownAirportError for unknown codes."""

    def get(self, iata: str) -> Airport:
        """The airport with that code."""
        ...

    def distance_km(self, a: str, b: str) -> float:
        """Great-circle distance between two airports."""
        ...


# --------------------------------------------------------------------------- flight data


@attrs.frozen
class ScheduledFlight:
    """A departure as it is known before it happens: schedule only, never an outcome.

    ``flight_urn`` is ``urn:flight:<carrier><number>@<yyyymmdd>[:vendor:<source>]``;
    ``origin``/``destination`` are IATA codes; ``distance_miles`` is the great-circle
    distance when the schedule gives it.
    """

    flight_urn: Urn
    carrier: str
    origin: str
    destination: str
    scheduled_departure: datetime
    distance_miles: float | None = None

    def __attrs_post_init__(self) -> None:
        if not self.flight_urn.is_a("flight"):
            raise InvalidInputError(f"{self.flight_urn} is not a flight URN", field="flight_urn")
        if self.scheduled_departure.tzinfo is None:
            raise InvalidInputError(
                "scheduled_departure must be timezone-aware", field="scheduled_departure"
            )


@attrs.frozen
class FlightPrediction:
    """What a predictor expects of one departure.

    ``cancel_probability`` and ``delay_60_probability`` (a departure delay of 60 minutes
    or more, if the flight operates) are calibrated probabilities; ``delay_minutes`` is the
    model's point estimate of the departure delay if the flight operates (negative: early).
    ``error`` is set (and the figures are None) when the flight could not be scored;
    ``warnings`` name what was missing (for example the weather at the origin).
    """

    flight_urn: Urn
    cancel_probability: float | None
    delay_minutes: float | None
    delay_60_probability: float | None
    model_version: str
    warnings: tuple[str, ...] = ()
    error: str | None = None


@runtime_checkable
class FlightPredictor(Protocol):
    """Flight + context → cancel probability, expected delay, P(delay ≥ 60 min).

    A shared platform service: public data, no PII. Rows it cannot score come back with
    ``error`` set, in the input order; it raises only :class:`ConfigurationError` (the
    model is missing or unreadable).
    """

    name: str
    model_version: str

    async def predict(
        self, flights: Sequence[ScheduledFlight], context: Mapping[str, Any] | None = None
    ) -> Sequence[FlightPrediction]:
        """One prediction per flight, same order."""
        ...


@attrs.frozen
class FlightStatus:
    """A flight's live state from a flight-data partner.

    ``status`` is one of ``SCHEDULED``, ``DELAYED``, ``DEPARTED``, ``LANDED``,
    ``CANCELLED``, ``DIVERTED`` or ``UNKNOWN``; ``estimated_departure`` is the partner's
    latest estimate (None when it gives none).
    """

    flight: ScheduledFlight
    status: str = "SCHEDULED"
    estimated_departure: datetime | None = None
    source: str = ""

    @property
    def cancelled(self) -> bool:
        """Whether the partner reports the flight cancelled."""
        return self.status == "CANCELLED"

    @property
    def delay_minutes(self) -> float | None:
        """The partner's estimated departure delay (None without an estimate)."""
        if self.estimated_departure is None:
            return None
        delta = self.estimated_departure - self.flight.scheduled_departure
        return delta.total_seconds() / 60.0


class FlightStatusProvider(Protocol):
    """Live flight state (AeroAPI, AviationStack, a scripted feed).

    Raises :class:`TransientProviderError` subclasses, :class:`ProviderAuthError`,
    :class:`MalformedResponseError`.
    """

    name: str

    async def departures(
        self, airline_urn: Urn, carrier: str, *, start: datetime, end: datetime
    ) -> Sequence[FlightStatus]:
        """The carrier's departures scheduled in ``[start, end)`` (credentials are the
        ``airline_urn`` tenant's)."""
        ...
