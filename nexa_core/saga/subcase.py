"""The sub-case saga's step handlers, over ports only.

Every handler is idempotent (an engine may run a step again after a crash): URNs are
minted deterministically from the booking idempotency key, provider calls carry keys
derived from upstream ids, and store writes check the current state first.

State (JSON-compatible) given by :func:`booking_input`::

    airline, case, sub_case, correlation, wave, group_id, candidates (ranked offers,
    primary first), rooms (room types), care {payment, card_token, meal_allowance,
    currency, transport, vehicle, pickup_at, pickup, channels}
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol, runtime_checkable

import attrs

from nexa_core.errors import (
    InvalidInputError,
    NotFoundError,
    ProviderRejectedError,
)
from nexa_core.idempotency import idempotency_key
from nexa_core.model import (
    CASE_LIFECYCLE,
    SUB_CASE_LIFECYCLE,
    TRANSFER_LIFECYCLE,
    AttemptedHotel,
    CardStatus,
    CaseStatus,
    Channel,
    DispatchMode,
    DomainEvent,
    HotelOffer,
    IssuedCard,
    ManualReviewItem,
    Money,
    Notification,
    NotificationStatus,
    PaymentMode,
    Reservation,
    ReservationStatus,
    ReviewCategory,
    RoomType,
    SubCase,
    SubCaseStatus,
    Transfer,
    TransferDirection,
    TransferStatus,
    Vehicle,
)
from nexa_core.ports import (
    BookingConfirmation,
    BookingProvider,
    BookingRequest,
    CardIssued,
    CardIssueRequest,
    Clock,
    Coordination,
    DeadLetter,
    IdGenerator,
    NotificationProvider,
    OperationalStore,
    OutboundMessage,
    PaymentProvider,
    SnapshotStore,
    TransferRequest,
    TransportProvider,
)
from nexa_core.saga.definition import SUBCASE_BOOKING, SUBCASE_ROLLBACK
from nexa_core.saga.interpreter import DEAD_LETTER_STEP, Handler, SagaProgram
from nexa_core.saga.partners import PartnerGate
from nexa_core.saga.policy import DEFAULT_RETRY_POLICIES, RetryPolicies
from nexa_core.saga.records import Change, Recorder, digest
from nexa_core.serialization import structure, unstructure
from nexa_core.tenancy import TenantContext
from nexa_core.urn import Urn, VendorRegistry

__all__ = [
    "HOLD_TTL",
    "BookingLookup",
    "CareInstructions",
    "SagaDeps",
    "SubCaseSagas",
    "booking_input",
    "transfer_status",
]

HOLD_TTL = timedelta(minutes=15)

#: failed step → review category
_CATEGORY = {
    "reserve": ReviewCategory.BOOKING_FAILED,
    "book": ReviewCategory.BOOKING_FAILED,
    "payment": ReviewCategory.PAYMENT_FAILED,
    "transport": ReviewCategory.TRANSPORT_FAILED,
    "offer_ready": ReviewCategory.DATA_INCOMPLETE,
}


@runtime_checkable
class BookingLookup(Protocol):
    """Optional booking-provider capability: find a booking by its idempotency key.

    After an *ambiguous* failure (timeout, garbled reply) the partner may have booked;
    before trying the next hotel the saga looks the attempt up and cancels it. A provider
    without this capability stops the fallbacks instead (an operator verifies).
    """

    async def find(self, airline_urn: Urn, idempotency_key: str) -> BookingConfirmation | None:
        """The live booking made under ``idempotency_key``, if any."""
        ...


def _payment_for(offer: HotelOffer, care: Mapping[str, Any]) -> PaymentMode:
    """The first allowed payment mode the hotel accepts (ProviderRejectedError if none)."""
    allowed = [PaymentMode(p) for p in care.get("payments") or ()] or [
        PaymentMode(care.get("payment", PaymentMode.GUARANTEE.value))
    ]
    for mode in allowed:
        if mode in offer.accepted_payments:
            return mode
    shown = "/".join(m.value for m in allowed)
    raise ProviderRejectedError(f"{offer.hotel_urn} does not accept {shown}", vendor=offer.vendor)


@attrs.frozen
class CareInstructions:
    """What the policy owes a group, resolved before the saga starts."""

    payment: PaymentMode = PaymentMode.GUARANTEE
    card_token: str | None = None
    #: every mode the policy allows, preferred first; each hotel is paid with the first
    #: one it accepts (GUARANTEE before CARD when both are allowed)
    payments: tuple[PaymentMode, ...] = ()
    meal_allowance: Decimal | None = None  # per passenger
    currency: str = "USD"
    transport: DispatchMode = DispatchMode.MANUAL
    vehicle: Vehicle = Vehicle.SHUTTLE
    pickup_at: datetime | None = None
    pickup: tuple[float, float] = (0.0, 0.0)
    channels: tuple[Channel, ...] = (Channel.EMAIL,)


def booking_input(
    sub_case: SubCase,
    *,
    wave_urn: Urn,
    candidates: Sequence[HotelOffer],
    rooms: Sequence[RoomType],
    care: CareInstructions,
    correlation_urn: Urn | None = None,
) -> dict[str, Any]:
    """The initial state of ``subcase-booking@1`` for one sub-case (primary offer first)."""
    if not candidates:
        raise InvalidInputError("a booking saga needs at least one offer", field="candidates")
    if not rooms:
        raise InvalidInputError("a booking saga needs at least one room", field="rooms")
    return {
        "airline": str(sub_case.airline_urn),
        "case": str(sub_case.case_urn),
        "sub_case": str(sub_case.urn),
        "correlation": str(correlation_urn) if correlation_urn else None,
        "wave": str(wave_urn),
        "group_id": sub_case.group.group_id,
        "candidates": [unstructure(o) for o in candidates[:4]],
        "rooms": [r.value for r in rooms],
        "care": unstructure(care),
    }


@attrs.frozen
class SagaDeps:
    """The ports the sub-case sagas use."""

    store: OperationalStore
    coordination: Coordination
    booking: VendorRegistry[BookingProvider]
    payments: PaymentProvider | None
    transport: Mapping[str, TransportProvider]
    notifications: Mapping[str, NotificationProvider]
    clock: Clock
    ids: IdGenerator
    snapshots: SnapshotStore | None = None
    gate: PartnerGate | None = None


def _tenant(state: Mapping[str, Any]) -> TenantContext:
    corr = state.get("correlation")
    return TenantContext.system(state["airline"], correlation_urn=Urn.parse(corr) if corr else None)


def _offer(state: Mapping[str, Any], index: int) -> HotelOffer:
    return structure(state["candidates"][index], HotelOffer)


def _booking_key(state: Mapping[str, Any], index: int = 0) -> str:
    group = state["group_id"] if index == 0 else f"{state['group_id']}~fallback{index}"
    return idempotency_key("booking", state["case"], state["wave"], group)


def _reservation_urn(state: Mapping[str, Any]) -> Urn:
    return Urn("reservation", f"r-{digest(_booking_key(state))}")


def _attempt_urn(reservation: Urn | str, offer: Urn | str) -> Urn:
    return Urn("hold-attempt", f"h-{digest(reservation, offer)}")


class SubCaseSagas:
    """Builds the ``subcase-booking`` and ``subcase-rollback`` programs over :class:`SagaDeps`."""

    def __init__(
        self,
        deps: SagaDeps,
        retry: RetryPolicies = DEFAULT_RETRY_POLICIES,
        *,
        tenant_retry: Mapping[str, RetryPolicies] | None = None,
    ) -> None:
        self.deps = deps
        self.retry = retry
        self.tenant_retry = dict(tenant_retry or {})
        self.gate = deps.gate or PartnerGate(deps.coordination)
        self.rec = Recorder(deps.store, deps.clock, deps.ids)

    # ------------------------------------------------------------------ programs

    def handlers(self) -> dict[str, Handler]:
        """Every handler of both sagas by name."""
        return {
            "reserve": self.reserve,
            "book": self.book,
            "payment": self.payment,
            "transport": self.transport,
            "notify": self.notify,
            "offer_ready": self.offer_ready,
            "to_manual_review": self.to_manual_review,
            "release_hold": self.release_hold,
            "cancel_booking": self.cancel_booking,
            "cancel_card": self.cancel_card,
            "cancel_transport": self.cancel_transport,
            "begin_rollback": self.begin_rollback,
            "end_rollback": self.end_rollback,
            DEAD_LETTER_STEP: self.dead_letter,
        }

    def programs(self) -> list[SagaProgram]:
        """The booking and rollback programs, ready to register with an engine."""
        h = self.handlers()
        return [
            SagaProgram(SUBCASE_BOOKING, h, self.retry, self.tenant_retry),
            SagaProgram(SUBCASE_ROLLBACK, h, self.retry, self.tenant_retry),
        ]

    # ------------------------------------------------------------------ helpers

    async def _move(
        self,
        tenant: TenantContext,
        sub: SubCase,
        path: Sequence[SubCaseStatus],
        *,
        event: str,
        reason: str,
        data: Mapping[str, Any] | None = None,
        extra: Sequence[Change] = (),
        more_events: Sequence[DomainEvent] = (),
        **fields: Any,
    ) -> SubCase:
        """Walk ``sub`` along ``path`` (skipping states it already passed) in one commit."""
        if sub.status in path:
            path = path[path.index(sub.status) + 1 :]
        if not path:
            return sub
        new = sub
        for status in path:
            new = new.transition(status)
        new = attrs.evolve(new, updated_at=self.deps.clock.now(), **fields)
        ev = self.rec.event(tenant, event, sub.urn, {"case": str(sub.case_urn), **(data or {})})
        audit = self.rec.audit(
            tenant,
            "subcase.transition",
            sub.urn,
            reason,
            {"status": sub.status.value},
            {"status": new.status.value},
        )
        out = await self.rec.commit(
            tenant, [Change("sub_cases", new), *extra], [ev, *more_events], [audit]
        )
        return out[0]  # type: ignore[no-any-return]

    async def _reservation(self, tenant: TenantContext, urn: Urn) -> Reservation | None:
        try:
            return await self.deps.store.reservations.get(tenant, urn)
        except NotFoundError:
            return None

    async def _hold(
        self, tenant: TenantContext, offer: HotelOffer, attempt: Urn, rooms: int, owner: str
    ) -> None:
        holds = self.deps.coordination.holds
        try:
            await holds.available(tenant, offer.urn)
        except NotFoundError:
            await holds.set_inventory(tenant, offer.urn, offer.total_rooms, ttl=timedelta(hours=6))
        await holds.acquire(tenant, offer.urn, attempt, rooms, ttl=HOLD_TTL, owner=owner)

    async def _release(self, tenant: TenantContext, offer_urn: Urn, attempt: Urn) -> None:
        try:
            await self.deps.coordination.holds.release(tenant, offer_urn, attempt)
        except NotFoundError:
            return

    async def _reconcile(self, state: Mapping[str, Any], below: int) -> None:
        """Cancel bookings that ambiguous failures of candidates ``< below`` may have made."""
        tenant = _tenant(state)
        for failure in state.get("failures", []):
            index = int(failure.get("candidate", 0))
            if failure.get("step") != "book" or not failure.get("ambiguous") or index >= below:
                continue
            offer = _offer(state, index)
            provider = self.deps.booking.for_vendor(offer.vendor)
            if not isinstance(provider, BookingLookup):
                raise ProviderRejectedError(
                    f"the outcome of the booking at {offer.hotel_urn} is unknown and "
                    f"{offer.vendor} cannot look it up; an operator must verify it",
                    vendor=offer.vendor,
                    retryable=False,
                )
            key = _booking_key(state, index)
            found = await provider.find(tenant.airline_urn, key)
            if found is not None:
                await self.gate.call(
                    offer.vendor,
                    "cancel",
                    functools.partial(
                        provider.cancel,
                        tenant.airline_urn,
                        found.confirmation_urn,
                        idempotency_key=f"cancel:{digest(key)}",
                    ),
                )

    # ------------------------------------------------------------------ booking saga

    async def reserve(self, state: Mapping[str, Any]) -> Mapping[str, Any]:
        """PENDING → PROCESSING, mint the reservation URN, soft-hold the primary offer."""
        tenant = _tenant(state)
        store = self.deps.store
        sub = await store.sub_cases.get(tenant, Urn.parse(state["sub_case"]))
        res_urn = _reservation_urn(state)
        offer = _offer(state, 0)
        rooms = tuple(RoomType(r) for r in state["rooms"])
        await self._hold(tenant, offer, _attempt_urn(res_urn, offer.urn), len(rooms), str(sub.urn))
        existing = await self._reservation(tenant, res_urn)
        extra: list[Change] = []
        if existing is None:
            rate = offer.cheapest_rate() or Money(0, offer.currency)
            extra.append(
                Change(
                    "reservations",
                    Reservation(
                        urn=res_urn,
                        airline_urn=tenant.airline_urn,
                        case_urn=sub.case_urn,
                        sub_case_urn=sub.urn,
                        offer_urn=offer.urn,
                        hotel_urn=offer.hotel_urn,
                        hotel_name=offer.name,
                        check_in=offer.check_in,
                        check_out=offer.check_out,
                        rooms=rooms,
                        total=rate.times(len(rooms) * max(1, offer.nights)),
                        idempotency_key=_booking_key(state),
                    ),
                    op="add",
                )
            )
        if sub.status is SubCaseStatus.PROCESSING:
            if extra:
                await self.rec.commit(tenant, extra)
        else:
            path = (
                [SubCaseStatus.PROCESSING]
                if SUB_CASE_LIFECYCLE.allowed(sub.status, SubCaseStatus.PROCESSING)
                else [SubCaseStatus.PENDING, SubCaseStatus.PROCESSING]
            )
            await self._move(
                tenant,
                sub,
                path,
                event="subcase.processing",
                reason="booking saga started",
                data={"reservation": str(res_urn)},
                extra=extra,
                reservation_urn=res_urn,
            )
        return {"reservation": str(res_urn)}

    async def book(self, state: Mapping[str, Any]) -> Mapping[str, Any]:
        """Book candidate ``state['candidate']`` with the provider that surfaced it."""
        tenant = _tenant(state)
        index = int(state.get("candidate", 0))
        offer = _offer(state, index)
        res_urn = Urn.parse(state["reservation"])
        rooms = tuple(RoomType(r) for r in state["rooms"])
        if index > 0:
            prev = _offer(state, index - 1)
            await self._release(tenant, prev.urn, _attempt_urn(res_urn, prev.urn))
            await self._reconcile(state, index)
        attempt = _attempt_urn(res_urn, offer.urn)
        await self._hold(tenant, offer, attempt, len(rooms), state["sub_case"])
        provider = self.deps.booking.for_vendor(offer.vendor)
        sub = await self.deps.store.sub_cases.get(tenant, Urn.parse(state["sub_case"]))
        lead = sub.group.lead
        care = state.get("care") or {}
        payment = _payment_for(offer, care)
        key = _booking_key(state, index)
        request = BookingRequest(
            airline_urn=tenant.airline_urn,
            reservation_urn=res_urn,
            offer=offer,
            rooms=rooms,
            lead_name=lead.contact.name,
            lead_contact=lead.contact,
            guests=sub.group.size,
            payment=payment,
            idempotency_key=key,
            card_token=care.get("card_token") if payment is PaymentMode.CARD else None,
        )
        conf = await self.gate.call(offer.vendor, "booking", lambda: provider.book(request))
        await self.deps.coordination.holds.confirm(tenant, offer.urn, attempt)
        current = await self._reservation(tenant, res_urn)
        if current is not None and current.status is ReservationStatus.PENDING:
            confirmed = attrs.evolve(
                current.transition(ReservationStatus.CONFIRMED),
                offer_urn=offer.urn,
                hotel_urn=offer.hotel_urn,
                hotel_name=offer.name,
                check_in=offer.check_in,
                check_out=offer.check_out,
                total=conf.total,
                confirmation_urn=conf.confirmation_urn,
                idempotency_key=key,
            )
            await self.rec.commit(
                tenant,
                [Change("reservations", confirmed)],
                [
                    self.rec.event(
                        tenant,
                        "reservation.confirmed",
                        res_urn,
                        {
                            "sub_case": state["sub_case"],
                            "hotel": str(offer.hotel_urn),
                            "confirmation": str(conf.confirmation_urn),
                        },
                        key=key,
                    )
                ],
                [
                    self.rec.audit(
                        tenant,
                        "reservation.confirmed",
                        res_urn,
                        f"booked with {offer.vendor}",
                        {"status": "PENDING"},
                        {"status": "CONFIRMED", "hotel": str(offer.hotel_urn)},
                    )
                ],
            )
        return {
            "confirmation": str(conf.confirmation_urn),
            "vendor": offer.vendor,
            "hotel": str(offer.hotel_urn),
            "hotel_name": offer.name,
            "offer": str(offer.urn),
            "total": str(conf.total.amount),
            "currency": conf.total.currency,
            "booked_candidate": index,
        }

    async def payment(self, state: Mapping[str, Any]) -> Mapping[str, Any]:
        """Issue (and load) the group's card when the policy pays by card or owes meals."""
        care = state.get("care") or {}
        allowance = care.get("meal_allowance")
        by_card = care.get("payment") == PaymentMode.CARD.value
        if self.deps.payments is None or (not allowance and not by_card):
            return {}
        tenant = _tenant(state)
        payments = self.deps.payments
        sub = await self.deps.store.sub_cases.get(tenant, Urn.parse(state["sub_case"]))
        case_urn = Urn.parse(state["case"])
        card_key = idempotency_key("card", case_urn, sub.group.group_id)
        card_urn = Urn("issued-card", f"ic-{digest(card_key)}")
        currency = care.get("currency", "USD")
        issued = await self.gate.call(
            payments.name,
            "card",
            lambda: payments.issue_card(
                CardIssueRequest(
                    tenant.airline_urn,
                    card_urn,
                    case_urn,
                    sub.group.group_id,
                    sub.group.lead.urn,
                    currency,
                    card_key,
                )
            ),
        )
        amount = Money(Decimal(allowance or 0) * sub.group.size, currency)
        if amount.amount > 0:
            load_key = idempotency_key("payment", case_urn, state["reservation"])
            await self.gate.call(
                payments.name,
                "card",
                lambda: payments.load(tenant.airline_urn, issued, amount, idempotency_key=load_key),
            )
        try:
            await self.deps.store.cards.get(tenant, card_urn)
        except NotFoundError:
            card = IssuedCard(
                card_urn,
                tenant.airline_urn,
                case_urn,
                sub.group.group_id,
                sub.group.lead.urn,
                currency,
                amount,
                Money(0, currency),
                CardStatus.ACTIVE,
                vendor_ref=issued.vendor_ref,
            )
            await self.rec.commit(
                tenant,
                [Change("cards", card, op="add")],
                [
                    self.rec.event(
                        tenant,
                        "card.issued",
                        card_urn,
                        {"sub_case": state["sub_case"], "amount": str(amount)},
                        key=card_key,
                    )
                ],
                [self.rec.audit(tenant, "card.issued", card_urn, "care owed by policy")],
            )
        return {"card": str(card_urn), "card_ref": issued.vendor_ref}

    def _transport_provider(self, name: str | None = None) -> tuple[str, TransportProvider]:
        if not self.deps.transport:
            raise ProviderRejectedError("no transport provider configured")
        if name is not None and name in self.deps.transport:
            return name, self.deps.transport[name]
        first = sorted(self.deps.transport)[0]
        return first, self.deps.transport[first]

    async def transport(self, state: Mapping[str, Any]) -> Mapping[str, Any]:
        """Dispatch the airport → hotel leg when the policy says AUTOMATIC."""
        care = state.get("care") or {}
        if care.get("transport") != DispatchMode.AUTOMATIC.value or not self.deps.transport:
            return {}
        tenant = _tenant(state)
        sub = await self.deps.store.sub_cases.get(tenant, Urn.parse(state["sub_case"]))
        offer = _offer(state, int(state.get("booked_candidate", 0)))
        transfer_urn = Urn("transfer", f"t-{digest(state['reservation'], 'inbound')}")
        pickup_at = (
            datetime.fromisoformat(care["pickup_at"])
            if care.get("pickup_at")
            else self.deps.clock.now() + timedelta(minutes=45)
        )
        pickup = care.get("pickup") or (0.0, 0.0)
        request = TransferRequest(
            tenant.airline_urn,
            transfer_urn,
            TransferDirection.AIRPORT_TO_HOTEL,
            Vehicle(care.get("vehicle", Vehicle.SHUTTLE.value)),
            pickup_at,
            sub.group.size,
            (float(pickup[0]), float(pickup[1])),
            (offer.latitude, offer.longitude),
            sub.group.lead.contact.name,
        )
        last: Exception | None = None
        for name in sorted(self.deps.transport):  # an open breaker shifts to the next vendor
            if not await self.gate.allowed(name):
                continue
            provider = self.deps.transport[name]
            try:
                dispatch = await self.gate.call(
                    name, "transport", functools.partial(provider.dispatch, request)
                )
            except ProviderRejectedError as exc:
                last = exc
                continue
            break
        else:
            raise last or ProviderRejectedError("every transport vendor is unavailable")
        try:
            await self.deps.store.transfers.get(tenant, transfer_urn)
        except NotFoundError:
            transfer = Transfer(
                transfer_urn,
                tenant.airline_urn,
                sub.case_urn,
                (sub.urn,),
                TransferDirection.AIRPORT_TO_HOTEL,
                request.vehicle,
                pickup_at,
                sub.group.size,
                TransferStatus.DISPATCHED,
                vendor=name,
            )
            await self.rec.commit(
                tenant,
                [Change("transfers", transfer, op="add")],
                [
                    self.rec.event(
                        tenant,
                        "transfer.dispatched",
                        transfer_urn,
                        {"sub_case": str(sub.urn), "vendor_ref": dispatch.vendor_ref},
                        key=str(transfer_urn),
                    )
                ],
            )
        return {"transfer": str(transfer_urn), "transport_vendor": name}

    async def notify(self, state: Mapping[str, Any]) -> Mapping[str, Any]:
        """Send the voucher message on each channel the policy lists (deduplicated)."""
        tenant = _tenant(state)
        sub = await self.deps.store.sub_cases.get(tenant, Urn.parse(state["sub_case"]))
        lead = sub.group.lead
        care = state.get("care") or {}
        sent: list[str] = []
        for channel_name in care.get("channels") or [Channel.EMAIL.value]:
            channel = Channel(channel_name)
            to = lead.contact.email if channel is Channel.EMAIL else lead.contact.phone
            if not to:
                continue
            provider = next(
                (p for _, p in sorted(self.deps.notifications.items()) if channel in p.channels),
                None,
            )
            if provider is None:
                continue
            key = idempotency_key(
                "notification",
                sub.group.group_id,
                "voucher.issued",
                channel.value,
                state["reservation"],
            )
            text = (
                f"Your hotel: {state.get('hotel_name', '')}. "
                f"Confirmation {Urn.parse(state['confirmation']).id}."
            )
            message = OutboundMessage(
                tenant.airline_urn, channel, to, "Your hotel voucher", text, dedup_key=key
            )
            result = await self.gate.call(
                provider.name, "notification", functools.partial(provider.send, message)
            )
            found = await self.deps.store.notifications.find(tenant, dedup_key=key)
            if not found:
                note = Notification(
                    self.deps.ids.new("notification"),
                    tenant.airline_urn,
                    sub.case_urn,
                    sub.group.group_id,
                    "voucher.issued",
                    channel,
                    lead.urn,
                    key,
                    NotificationStatus.SENT,
                    reservation_urn=Urn.parse(state["reservation"]),
                    provider_message_id=result.provider_message_id,
                    sent_at=self.deps.clock.now(),
                )
                await self.rec.commit(tenant, [Change("notifications", note, op="add")])
            sent.append(channel.value)
        return {"notified": sent}

    async def offer_ready(self, state: Mapping[str, Any]) -> Mapping[str, Any]:
        """Write the passenger snapshot, then PROCESSING → OFFER_READY with its events."""
        tenant = _tenant(state)
        sub = await self.deps.store.sub_cases.get(tenant, Urn.parse(state["sub_case"]))
        if self.deps.snapshots is not None:
            await self.deps.snapshots.put(
                tenant,
                sub.urn,
                {
                    "status": SubCaseStatus.OFFER_READY.value,
                    "case": state["case"],
                    "group_id": state["group_id"],
                    "reservation": state["reservation"],
                    "hotel": state.get("hotel"),
                    "hotel_name": state.get("hotel_name"),
                    "confirmation": state.get("confirmation"),
                    "card": state.get("card"),
                    "transfer": state.get("transfer"),
                },
            )
        if sub.status is not SubCaseStatus.OFFER_READY:
            voucher = self.rec.event(
                tenant,
                "voucher.issued",
                Urn.parse(state["reservation"]),
                {"sub_case": state["sub_case"], "channels": state.get("notified", [])},
            )
            await self._move(
                tenant,
                sub,
                [SubCaseStatus.OFFER_READY],
                event="subcase.offer-ready",
                reason="booking saga completed",
                data={"reservation": state["reservation"], "hotel": state.get("hotel")},
                more_events=[voucher],
            )
        return {"status": SubCaseStatus.OFFER_READY.value}

    async def to_manual_review(self, state: Mapping[str, Any]) -> Mapping[str, Any]:
        """Dead letter → manual review: audit, review item, sub-case and case moved."""
        tenant = _tenant(state)
        store = self.deps.store
        sub = await store.sub_cases.get(tenant, Urn.parse(state["sub_case"]))
        failed = str(state.get("failed_step") or "book")
        category = _CATEGORY.get(failed, ReviewCategory.BOOKING_FAILED)
        attempted = []
        for f in state.get("failures", []):
            if f.get("step") != "book":
                continue
            offer = state["candidates"][int(f.get("candidate", 0))]
            attempted.append(
                AttemptedHotel(
                    Urn.parse(offer["hotel_urn"]), f.get("code", "failed"), f.get("error")
                )
            )
        review_urn = Urn("review", f"rv-{digest(state['workflow_id'])}")
        dead = list(state.get("dead_letters") or [])
        reason = f"{failed} failed: {state.get('error', 'unknown error')}"
        if dead:
            reason += f" (compensations dead-lettered: {', '.join(dead)})"
        changes: list[Change] = []
        try:
            await store.reviews.get(tenant, review_urn)
        except NotFoundError:
            changes.append(
                Change(
                    "reviews",
                    ManualReviewItem(
                        review_urn,
                        tenant.airline_urn,
                        sub.case_urn,
                        category,
                        reason,
                        affected_groups=(sub.group.group_id,),
                        attempted_hotels=tuple(attempted),
                        created_at=self.deps.clock.now(),
                    ),
                    op="add",
                )
            )
        case = await store.cases.get(tenant, sub.case_urn)
        if CASE_LIFECYCLE.allowed(case.status, CaseStatus.MANUAL_REVIEW):
            changes.append(Change("cases", case.transition(CaseStatus.MANUAL_REVIEW)))
        events = [
            self.rec.event(
                tenant,
                "review.created",
                review_urn,
                {"sub_case": str(sub.urn), "category": category.value},
            )
        ]
        audits = [
            self.rec.audit(
                tenant,
                "saga.dead-lettered",
                sub.urn,
                reason,
                {"status": sub.status.value},
                {"status": SubCaseStatus.MANUAL_REVIEW.value, "last_error": state.get("error")},
            )
        ]
        if sub.status is SubCaseStatus.MANUAL_REVIEW:
            if changes:
                await self.rec.commit(tenant, changes, events, audits)
        else:
            path = (
                [SubCaseStatus.FAILED, SubCaseStatus.MANUAL_REVIEW]
                if sub.status is not SubCaseStatus.PENDING
                else [SubCaseStatus.MANUAL_REVIEW]
            )
            moved = sub
            for s in path:
                moved = moved.transition(s)
            await self.rec.commit(
                tenant,
                [
                    Change("sub_cases", attrs.evolve(moved, updated_at=self.deps.clock.now())),
                    *changes,
                ],
                [
                    self.rec.event(
                        tenant,
                        "subcase.manual-review",
                        sub.urn,
                        {"case": str(sub.case_urn), "review": str(review_urn)},
                    ),
                    *events,
                ],
                audits,
            )
        return {"review": str(review_urn), "status": SubCaseStatus.MANUAL_REVIEW.value}

    async def dead_letter(self, state: Mapping[str, Any]) -> Mapping[str, Any]:
        """A compensation failed for good: keep a forensic record (never retried silently)."""
        tenant = _tenant(state)
        info = state["_dead_letter"]
        urn = Urn("compensation-dead-letter", f"cdl-{digest(state['workflow_id'], info['step'])}")
        try:
            await self.deps.store.dead_letters.get(tenant, urn)
            return {}
        except NotFoundError:
            pass
        record = DeadLetter(
            urn,
            tenant.airline_urn,
            Urn.parse(state["case"]),
            Urn.parse(state["sub_case"]),
            info["step"],
            info["error"],
            self.deps.clock.now(),
            {
                "code": info.get("code"),
                "reservation": state.get("reservation"),
                "confirmation": state.get("confirmation"),
                "card": state.get("card"),
                "transfer": state.get("transfer"),
            },
        )
        await self.rec.commit(
            tenant,
            [Change("dead_letters", record, op="add")],
            [self.rec.event(tenant, "compensation.dead-lettered", urn, {"step": info["step"]})],
            [
                self.rec.audit(
                    tenant,
                    "compensation.dead-lettered",
                    Urn.parse(state["sub_case"]),
                    f"{info['step']} failed permanently: {info['error']}",
                )
            ],
        )
        return {}

    # ------------------------------------------------------------------ compensations

    async def release_hold(self, state: Mapping[str, Any]) -> Mapping[str, Any]:
        """Give the soft-hold (or its confirmation) back; fail a reservation never booked."""
        tenant = _tenant(state)
        res_urn = (
            Urn.parse(state["reservation"]) if state.get("reservation") else _reservation_urn(state)
        )
        if state.get("offer"):
            offer_urn = Urn.parse(state["offer"])
        else:
            offer_urn = _offer(state, int(state.get("candidate", 0))).urn
        await self._release(tenant, offer_urn, _attempt_urn(res_urn, offer_urn))
        if not state.get("confirmation"):
            await self._reconcile(state, len(state.get("candidates", [])))
        res = await self._reservation(tenant, res_urn)
        if res is not None and res.status is ReservationStatus.PENDING:
            await self.rec.commit(
                tenant, [Change("reservations", res.transition(ReservationStatus.FAILED))]
            )
        return {}

    async def cancel_booking(self, state: Mapping[str, Any]) -> Mapping[str, Any]:
        """Cancel the confirmed booking at the provider and in the store."""
        if not state.get("confirmation"):
            return {}
        tenant = _tenant(state)
        confirmation = Urn.parse(state["confirmation"])
        provider = self.deps.booking.for_vendor(state["vendor"])
        key = f"cancel:{digest(state['confirmation'])}"
        await self.gate.call(
            state["vendor"],
            "cancel",
            lambda: provider.cancel(tenant.airline_urn, confirmation, idempotency_key=key),
        )
        res = await self._reservation(tenant, Urn.parse(state["reservation"]))
        if res is not None and res.status is ReservationStatus.CONFIRMED:
            await self.rec.commit(
                tenant,
                [Change("reservations", res.transition(ReservationStatus.CANCELLED))],
                [
                    self.rec.event(
                        tenant, "reservation.cancelled", res.urn, {"sub_case": state["sub_case"]}
                    )
                ],
                [self.rec.audit(tenant, "reservation.cancelled", res.urn, "compensation")],
            )
        return {}

    async def cancel_card(self, state: Mapping[str, Any]) -> Mapping[str, Any]:
        """Cancel the group's card."""
        if not state.get("card") or self.deps.payments is None:
            return {}
        tenant = _tenant(state)
        payments = self.deps.payments
        card_urn = Urn.parse(state["card"])
        issued = CardIssued(card_urn, state.get("card_ref") or "")
        await self.gate.call(
            payments.name,
            "card",
            lambda: payments.cancel_card(
                tenant.airline_urn, issued, idempotency_key=f"cancel:{state['card']}"
            ),
        )
        try:
            card = await self.deps.store.cards.get(tenant, card_urn)
        except NotFoundError:
            return {}
        if card.status is not CardStatus.CANCELLED:
            await self.rec.commit(
                tenant,
                [Change("cards", attrs.evolve(card, status=CardStatus.CANCELLED))],
                [
                    self.rec.event(
                        tenant, "card.cancelled", card_urn, {"sub_case": state["sub_case"]}
                    )
                ],
            )
        return {}

    async def cancel_transport(self, state: Mapping[str, Any]) -> Mapping[str, Any]:
        """Cancel the dispatched ride."""
        if not state.get("transfer"):
            return {}
        tenant = _tenant(state)
        name, provider = self._transport_provider(state.get("transport_vendor"))
        transfer_urn = Urn.parse(state["transfer"])
        await self.gate.call(
            name, "transport", lambda: provider.cancel(tenant.airline_urn, transfer_urn)
        )
        try:
            transfer = await self.deps.store.transfers.get(tenant, transfer_urn)
        except NotFoundError:
            return {}
        if transfer.status in (TransferStatus.REQUESTED, TransferStatus.DISPATCHED):
            await self.rec.commit(
                tenant,
                [Change("transfers", transfer_status(transfer, TransferStatus.CANCELLED))],
                [
                    self.rec.event(
                        tenant, "transfer.cancelled", transfer_urn, {"sub_case": state["sub_case"]}
                    )
                ],
            )
        return {}

    # ------------------------------------------------------------------ rollback saga

    async def begin_rollback(self, state: Mapping[str, Any]) -> Mapping[str, Any]:
        """OFFER_READY (or PROCESSING) → COMPENSATING; gather what must be undone."""
        tenant = _tenant(state)
        store = self.deps.store
        sub = await store.sub_cases.get(tenant, Urn.parse(state["sub_case"]))
        out: dict[str, Any] = {"case": str(sub.case_urn), "group_id": sub.group.group_id}
        if sub.reservation_urn is not None:
            res = await self._reservation(tenant, sub.reservation_urn)
            if res is not None:
                out["reservation"] = str(res.urn)
                out["offer"] = str(res.offer_urn)
                if res.confirmation_urn is not None and res.status is ReservationStatus.CONFIRMED:
                    out["confirmation"] = str(res.confirmation_urn)
                    out["vendor"] = res.confirmation_urn.vendor or res.hotel_urn.vendor
        cards = await store.cards.find(tenant, case_urn=sub.case_urn, group_id=sub.group.group_id)
        live = [c for c in cards if c.status is not CardStatus.CANCELLED]
        if live:
            out["card"] = str(live[0].urn)
            out["card_ref"] = live[0].vendor_ref
        transfers = await store.transfers.find(tenant, case_urn=sub.case_urn)
        mine = [
            t
            for t in transfers
            if sub.urn in t.sub_case_urns
            and t.status in (TransferStatus.REQUESTED, TransferStatus.DISPATCHED)
        ]
        if mine:
            out["transfer"] = str(mine[0].urn)
            out["transport_vendor"] = mine[0].vendor
        if sub.status is not SubCaseStatus.COMPENSATING:
            await self._move(
                tenant,
                sub,
                [SubCaseStatus.COMPENSATING],
                event="subcase.compensating",
                reason=str(state.get("reason") or "passenger declined"),
            )
        return out

    async def end_rollback(self, state: Mapping[str, Any]) -> Mapping[str, Any]:
        """Back to PENDING with the operator alerted (or to manual review after dead letters)."""
        tenant = _tenant(state)
        sub = await self.deps.store.sub_cases.get(tenant, Urn.parse(state["sub_case"]))
        dead = list(state.get("dead_letters") or [])
        if dead:
            if sub.status is SubCaseStatus.COMPENSATING:
                review_urn = Urn("review", f"rv-{digest(state['workflow_id'])}")
                item = ManualReviewItem(
                    review_urn,
                    tenant.airline_urn,
                    sub.case_urn,
                    ReviewCategory.COMPENSATION_FAILED,
                    f"rollback left dead letters: {', '.join(dead)}",
                    affected_groups=(sub.group.group_id,),
                    created_at=self.deps.clock.now(),
                )
                await self._move(
                    tenant,
                    sub,
                    [SubCaseStatus.FAILED, SubCaseStatus.MANUAL_REVIEW],
                    event="subcase.manual-review",
                    reason="compensation dead-lettered",
                    data={"review": str(review_urn)},
                    extra=[Change("reviews", item, op="add")],
                )
            return {"status": SubCaseStatus.MANUAL_REVIEW.value}
        if sub.status is SubCaseStatus.COMPENSATING:
            await self._move(
                tenant,
                sub,
                [SubCaseStatus.PENDING],
                event="subcase.rolled-back",
                reason=str(state.get("reason") or "passenger declined"),
                reservation_urn=None,
            )
            await self.rec.commit(
                tenant,
                [],
                [
                    self.rec.event(
                        tenant,
                        "operator.alerted",
                        sub.urn,
                        {"reason": str(state.get("reason") or "passenger declined")},
                    )
                ],
            )
        return {"status": SubCaseStatus.PENDING.value}


def transfer_status(transfer: Transfer, to: TransferStatus) -> Transfer:
    """A copy of ``transfer`` in state ``to`` (checked against its lifecycle)."""
    TRANSFER_LIFECYCLE.check(transfer.status, to, urn=transfer.urn)
    return attrs.evolve(transfer, status=to)
