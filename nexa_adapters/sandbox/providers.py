"""Sandbox partners: hotels, bookings, cards, rides and messages without credentials.

Each provider is deterministic for a seed, keeps inspectable state (what was booked,
issued, dispatched or sent, by idempotency key) and can inject latency and failures so
retries, fallbacks and compensations can be exercised end to end.
"""

from __future__ import annotations

import base64
import hashlib
import random
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import anyio
import attrs

from nexa_adapters.sandbox.inventory import SyntheticHotel, synthetic_hotels
from nexa_core.errors import (
    InvalidInputError,
    NotFoundError,
    ProviderRejectedError,
    ProviderUnavailableError,
    WebhookVerificationError,
)
from nexa_core.model import (
    Channel,
    HotelOffer,
    Money,
    NotificationStatus,
    ReservationStatus,
    RoomOffer,
    TransferStatus,
)
from nexa_core.ports import (
    BookingConfirmation,
    BookingRequest,
    CardIssued,
    CardIssueRequest,
    HotelSearch,
    OutboundMessage,
    SendResult,
    TransferDispatch,
    TransferQuote,
    TransferRequest,
)
from nexa_core.urn import Urn

__all__ = [
    "SANDBOX_WEBHOOK_SECRET",
    "FaultInjector",
    "SandboxBooking",
    "SandboxHotels",
    "SandboxMessages",
    "SandboxPayments",
    "SandboxTransport",
]


@attrs.define
class FaultInjector:
    """Latency and failure injection shared by the sandbox providers.

    ``transient_rate`` raises :class:`ProviderUnavailableError`, ``permanent_rate``
    raises :class:`ProviderRejectedError`. ``fail_keys`` always fail permanently.
    """

    latency_s: float = 0.0
    transient_rate: float = 0.0
    permanent_rate: float = 0.0
    seed: int = 7
    fail_keys: set[str] = attrs.field(factory=set)
    _rng: random.Random = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    async def hit(self, vendor: str, operation: str, key: str = "") -> None:
        """Sleep, then maybe raise, for one call."""
        if self.latency_s > 0:
            await anyio.sleep(self.latency_s)
        if key and key in self.fail_keys:
            raise ProviderRejectedError(
                f"{vendor} refused {operation} (injected)", vendor=vendor, operation=operation
            )
        roll = self._rng.random()
        if roll < self.permanent_rate:
            raise ProviderRejectedError(
                f"{vendor} refused {operation} (injected)", vendor=vendor, operation=operation
            )
        if roll < self.permanent_rate + self.transient_rate:
            raise ProviderUnavailableError(
                f"{vendor} is unavailable for {operation} (injected 503)",
                vendor=vendor,
                operation=operation,
            )


#: The sandbox partners sign their webhooks with the Standard Webhooks scheme under this
#: public test secret (like a vendor's test mode: never use it for a real partner).
#: ``nexa webhooks sign --scheme standard`` with it set in an environment variable makes a
#: delivery ``nexa care webhook sandbox`` accepts.
SANDBOX_WEBHOOK_SECRET = "whsec_" + base64.b64encode(b"nexa-sandbox-webhooks").decode()


def sandbox_webhook(
    body: bytes, headers: Mapping[str, str], kind: str, *, now: datetime | None = None
) -> dict[str, Any]:
    """Verify a sandbox delivery's signature, then read its JSON body of type ``kind``."""
    from nexa_adapters.documents.safe_json import LIMITS, load_json
    from nexa_adapters.webhooks import StandardWebhook

    StandardWebhook(SANDBOX_WEBHOOK_SECRET).verify(body, headers, now=now)
    try:
        data = load_json(body, limits=LIMITS["webhook"], what="sandbox webhook")
    except InvalidInputError:
        raise WebhookVerificationError("sandbox webhook body is not a JSON document") from None
    if not isinstance(data, dict) or data.get("type") != kind:
        raise WebhookVerificationError(f"not a sandbox {kind} event", expected=kind)
    if not isinstance(data.get("id"), str) or not data["id"]:
        raise WebhookVerificationError("sandbox webhook has no event id")
    return data


def _ref(*parts: str) -> str:
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:10].upper()


class SandboxHotels:
    """Synthetic inventory around the searched airport (hotel search port)."""

    def __init__(
        self,
        name: str = "sandbox",
        *,
        seed: int = 7,
        hotels: int = 40,
        rooms_scale: float = 1.0,
        faults: FaultInjector | None = None,
    ) -> None:
        self.name = name
        self.seed = seed
        self.hotels = hotels
        self.rooms_scale = rooms_scale
        self.faults = faults or FaultInjector()
        self.searches = 0

    def _offer(self, h: SyntheticHotel, request: HotelSearch) -> HotelOffer:
        return HotelOffer(
            urn=Urn(
                "offer",
                f"{self.name}-{h.hotel_id}.{request.check_in:%Y%m%d}.{request.check_out:%Y%m%d}",
            ),
            hotel_urn=Urn("hotel", h.hotel_id, self.name),
            name=h.name,
            address=h.address,
            latitude=h.latitude,
            longitude=h.longitude,
            stars=h.stars,
            rooms=tuple(RoomOffer(t, n, rate, acc) for t, n, rate, acc in h.rooms),
            currency=request.currency,
            check_in=request.check_in,
            check_out=request.check_out,
            amenities=h.amenities,
            chain=h.chain,
            board_basis=h.board_basis,
            accepted_payments=h.accepted_payments,
            phone=h.phone,
            fetched_at=datetime.now(UTC),
        )

    async def search(self, request: HotelSearch) -> Sequence[HotelOffer]:
        """Every synthetic hotel with rooms, as canonical offers."""
        self.searches += 1
        await self.faults.hit(self.name, "search")
        hotels = synthetic_hotels(
            request.airport.iata, self.name, self.seed, self.hotels, self.rooms_scale
        )
        return [self._offer(h, request) for h in hotels]


class SandboxBooking:
    """Books synthetic offers; never sells a room twice; replays by idempotency key."""

    def __init__(self, name: str = "sandbox", *, faults: FaultInjector | None = None) -> None:
        self.name = name
        self.faults = faults or FaultInjector()
        self.bookings: dict[str, BookingConfirmation] = {}
        self.cancelled: set[str] = set()
        self.calls = 0
        self.rooms_sold: dict[str, int] = {}
        self.capacity: dict[str, int] = {}

    async def book(self, request: BookingRequest) -> BookingConfirmation:
        """Confirm the booking (or replay the first confirmation for the same key)."""
        self.calls += 1
        if request.idempotency_key in self.bookings:
            return attrs.evolve(self.bookings[request.idempotency_key], replayed=True)
        await self.faults.hit(self.name, "booking", request.idempotency_key)
        offer_key = str(request.offer.urn)
        cap = self.capacity.setdefault(offer_key, request.offer.total_rooms)
        sold = self.rooms_sold.get(offer_key, 0)
        if sold + len(request.rooms) > cap:
            raise ProviderRejectedError(
                f"{self.name}: hotel-full for {request.offer.hotel_urn}",
                vendor=self.name,
                reason="hotel-full",
            )
        self.rooms_sold[offer_key] = sold + len(request.rooms)
        rate = {r.room_type: r.nightly_rate for r in request.offer.rooms}
        total = sum((rate.get(t, Decimal(0)) for t in request.rooms), Decimal(0)) * max(
            1, request.offer.nights
        )
        conf = BookingConfirmation(
            reservation_urn=request.reservation_urn,
            confirmation_urn=Urn(
                "reservation",
                f"SBX-{_ref(request.idempotency_key)}",
                self.name,
                "confirmed",
            ),
            total=Money(total, request.offer.currency),
        )
        self.bookings[request.idempotency_key] = conf
        return conf

    async def cancel(
        self, airline_urn: Urn, confirmation_urn: Urn, *, idempotency_key: str
    ) -> None:
        """Cancel (idempotent)."""
        await self.faults.hit(self.name, "cancel")
        self.cancelled.add(confirmation_urn.id)

    async def status(self, airline_urn: Urn, confirmation_urn: Urn) -> ReservationStatus:
        """CONFIRMED, CANCELLED, or NotFoundError."""
        if confirmation_urn.id in self.cancelled:
            return ReservationStatus.CANCELLED
        if any(c.confirmation_urn.id == confirmation_urn.id for c in self.bookings.values()):
            return ReservationStatus.CONFIRMED
        raise NotFoundError(f"{confirmation_urn} not found", urn=str(confirmation_urn))


class SandboxPayments:
    """Deterministic virtual cards (no PAN, ever)."""

    def __init__(self, name: str = "sandbox", *, faults: FaultInjector | None = None) -> None:
        self.name = name
        self.faults = faults or FaultInjector()
        self.cards: dict[str, CardIssued] = {}
        self.loads: dict[str, Money] = {}
        self.cancelled: set[str] = set()

    async def issue_card(self, request: CardIssueRequest) -> CardIssued:
        """Issue (replays return the same card)."""
        if request.idempotency_key in self.cards:
            return attrs.evolve(self.cards[request.idempotency_key], replayed=True)
        await self.faults.hit(self.name, "card.issue", request.idempotency_key)
        card = CardIssued(request.card_urn, f"crd_{_ref(request.idempotency_key)}")
        self.cards[request.idempotency_key] = card
        return card

    async def load(
        self, airline_urn: Urn, card: CardIssued, amount: Money, *, idempotency_key: str
    ) -> None:
        """Record one load per key."""
        if idempotency_key in self.loads:
            return
        await self.faults.hit(self.name, "card.load", idempotency_key)
        self.loads[idempotency_key] = amount

    async def cancel_card(
        self, airline_urn: Urn, card: CardIssued, *, idempotency_key: str
    ) -> None:
        """Cancel (idempotent)."""
        await self.faults.hit(self.name, "card.cancel")
        self.cancelled.add(card.vendor_ref)

    async def verify_card_event(self, tenant: Urn, body: bytes, headers: Mapping[str, str]) -> Any:
        """A signed ``{"type": "card.transaction", "id", "card", "kind", "amount",
        "currency"[, "authorization", "merchant"]}`` delivery as a card event."""
        from nexa_core.care import CardEvent, CardEventKind

        data = sandbox_webhook(body, headers, "card.transaction")
        try:
            return CardEvent(
                event_urn=Urn("event", f"e-sbx-{_ref(str(data['id'])).lower()}"),
                card_urn=Urn.parse(str(data["card"])),
                kind=CardEventKind(str(data["kind"]).upper()),
                amount=Money(str(data["amount"]), str(data["currency"])),
                at=datetime.now(UTC),
                authorization=str(data["authorization"]) if data.get("authorization") else None,
                merchant=str(data["merchant"])[:80] if data.get("merchant") else None,
            )
        except (KeyError, ValueError, ArithmeticError, InvalidInputError):
            raise WebhookVerificationError("sandbox card webhook is malformed") from None


class SandboxTransport:
    """A limited fleet: prices by passengers, dispatches once per transfer URN, signs its
    state webhooks (``type: transfer.status``, see :data:`SANDBOX_WEBHOOK_SECRET`)."""

    def __init__(
        self,
        name: str = "sandbox",
        *,
        faults: FaultInjector | None = None,
        max_passengers: int = 24,
        currency: str = "USD",
        base_price: int = 15,
        per_passenger: int = 2,
        coverage: frozenset[str] = frozenset(),
    ) -> None:
        self.name = name
        self.faults = faults or FaultInjector()
        self.max_passengers = max_passengers
        self.currency = currency
        self.base_price = base_price
        self.per_passenger = per_passenger
        self.coverage = coverage
        self.dispatched: dict[str, TransferDispatch] = {}
        self.cancelled: set[str] = set()

    async def quote(self, request: TransferRequest) -> TransferQuote:
        """Price grows with passengers; unavailable above the fleet's vehicle size."""
        await self.faults.hit(self.name, "quote")
        price = Decimal(self.base_price + self.per_passenger * request.passengers)
        return TransferQuote(
            vendor=self.name,
            price=Money(price, self.currency),
            available=request.passengers <= self.max_passengers,
            eta_minutes=20,
        )

    async def dispatch(self, request: TransferRequest) -> TransferDispatch:
        """Dispatch (the transfer URN is the external reference)."""
        key = str(request.transfer_urn)
        if key in self.dispatched:
            return attrs.evolve(self.dispatched[key], replayed=True)
        await self.faults.hit(self.name, "dispatch", key)
        if request.passengers > self.max_passengers:
            raise ProviderRejectedError("no vehicle available in the window", vendor=self.name)
        d = TransferDispatch(request.transfer_urn, f"ride_{_ref(key)}", 20)
        self.dispatched[key] = d
        return d

    async def cancel(self, airline_urn: Urn, transfer_urn: Urn) -> Money | None:
        """Cancel; no fee in the sandbox."""
        self.cancelled.add(str(transfer_urn))
        return None

    async def verify_webhook(self, tenant: Urn, body: bytes, headers: Mapping[str, str]) -> Any:
        """A signed ``{"type": "transfer.status", "id", "transfer", "status"[, "eta_minutes"]}``
        delivery as a transfer update (WebhookVerificationError otherwise)."""
        from nexa_adapters.http._transport import TransferUpdate

        data = sandbox_webhook(body, headers, "transfer.status")
        try:
            status = TransferStatus(str(data["status"]).upper())
            urn = Urn.parse(str(data["transfer"]))
        except (KeyError, ValueError, InvalidInputError):
            raise WebhookVerificationError("sandbox transfer webhook is malformed") from None
        if not urn.is_a("transfer"):
            raise WebhookVerificationError("sandbox transfer webhook names no transfer")
        return TransferUpdate(urn, str(data.get("ride", "")), status, data["id"], status.value)


class SandboxMessages:
    """Captures messages instead of sending them (every channel)."""

    def __init__(self, name: str = "sandbox", *, faults: FaultInjector | None = None) -> None:
        self.name = name
        self.channels = frozenset(Channel)
        self.faults = faults or FaultInjector()
        self.sent: dict[str, OutboundMessage] = {}
        self.attempts = 0

    async def verify_receipt(self, tenant: Urn, body: bytes, headers: Mapping[str, str]) -> Any:
        """A signed ``{"type": "message.status", "id", "dedup_key", "status"[, "reason"]}``
        delivery receipt (DELIVERED, BOUNCED or FAILED)."""
        from nexa_adapters.http._inbound import DeliveryReceipt

        data = sandbox_webhook(body, headers, "message.status")
        try:
            status = NotificationStatus(str(data["status"]).upper())
            key = str(data["dedup_key"])
        except (KeyError, ValueError):
            raise WebhookVerificationError("sandbox receipt is malformed") from None
        return DeliveryReceipt(
            self.name,
            data["id"],
            None,
            key,
            status,
            "message.status",
            str(data.get("reason", ""))[:200],
        )

    async def send(self, message: OutboundMessage) -> SendResult:
        """Record the message once per dedup key."""
        self.attempts += 1
        key = message.dedup_key or _ref(message.to, message.subject, message.text)
        if key in self.sent:
            return SendResult(f"msg_{_ref(key)}", replayed=True)
        await self.faults.hit(self.name, "send", key)
        self.sent[key] = message
        return SendResult(f"msg_{_ref(key)}")
