"""The sub-case saga's step handlers, over ports only.

Every handler is idempotent (an engine may run a step again after a crash): URNs are
minted deterministically from the booking idempotency key, provider calls carry keys
derived from upstream ids, and store writes check the current state first.

The care steps (``payment``, ``transport``, ``notify``, ``offer_ready``) are the care
services of :mod:`nexa_core.care` — the meal card, the transport dispatcher, voucher
delivery and the passenger document — called with the records the saga already holds.
They never cancel a booked hotel: a partner that keeps failing on the step's last try
becomes a review item (PAYMENT_FAILED, TRANSPORT_FAILED, NOTIFICATION) and the saga goes on.

State (JSON-compatible) given by :func:`booking_input`::

    airline, case, sub_case, correlation, wave, group_id, candidates (ranked offers,
    primary first), rooms (room types), care (:class:`~nexa_core.care.CareInstructions`)
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any, Protocol, runtime_checkable

import attrs

from nexa_core.care import (
    CareDeps,
    CareInstructions,
    CareLinks,
    MessageRenderer,
    TransportVendor,
    VoucherContent,
    build_document,
    build_voucher,
    cancel_meal_card,
    cancel_sub_case_transport,
    card_reference_for,
    card_urn_for,
    choose_language,
    deliver_voucher,
    dispatch_transport,
    issue_meal_card,
    open_review,
    publish_document,
)
from nexa_core.errors import (
    InvalidInputError,
    NexaError,
    NotFoundError,
    PermanentProviderError,
    ProviderRejectedError,
    RenderError,
    TransientProviderError,
)
from nexa_core.idempotency import idempotency_key
from nexa_core.model import (
    CASE_LIFECYCLE,
    SUB_CASE_LIFECYCLE,
    AttemptedHotel,
    CardStatus,
    CaseStatus,
    DispatchMode,
    DomainEvent,
    HotelOffer,
    IssuedCard,
    ManualReviewItem,
    Money,
    PaymentMode,
    Reservation,
    ReservationStatus,
    ReviewCategory,
    RoomType,
    SubCase,
    SubCaseStatus,
    Transfer,
    TransferStatus,
)
from nexa_core.ports import (
    BookingConfirmation,
    BookingProvider,
    BookingRequest,
    Clock,
    Coordination,
    DeadLetter,
    IdGenerator,
    NotificationProvider,
    OperationalStore,
    PaymentProvider,
    SnapshotStore,
    TransportProvider,
)
from nexa_core.saga.definition import SUBCASE_BOOKING, SUBCASE_ROLLBACK
from nexa_core.saga.interpreter import DEAD_LETTER_STEP, Handler, SagaProgram
from nexa_core.saga.partners import PartnerGate
from nexa_core.saga.policy import DEFAULT_RETRY_POLICIES, RetryPolicies
from nexa_core.saga.records import Change, Recorder, digest
from nexa_core.serialization import structure, unstructure
from nexa_core.tenancy import TenantContext
from nexa_core.urn import Urn, VendorRegistry, without_status

__all__ = [
    "HOLD_TTL",
    "BookingLookup",
    "CareInstructions",
    "SagaDeps",
    "SubCaseSagas",
    "booking_input",
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
    renderer: MessageRenderer | None = None
    links: CareLinks = attrs.field(factory=CareLinks)
    #: transport vendors with their coverage and capacity (default: every provider of
    #: ``transport``, covering everywhere, up to 24 passengers)
    vendors: Sequence[TransportVendor] | None = None

    def care(self, gate: PartnerGate) -> CareDeps:
        """The care services' view of these ports (partner calls through ``gate``)."""
        vendors = (
            self.vendors
            if self.vendors is not None
            else tuple(TransportVendor(p) for _, p in sorted(self.transport.items()))
        )
        return CareDeps(
            store=self.store,
            clock=self.clock,
            ids=self.ids,
            snapshots=self.snapshots,
            messages=tuple(p for _, p in sorted(self.notifications.items())),
            renderer=self.renderer,
            payments=self.payments,
            transport=vendors,
            gate=gate,
            links=self.links,
        )


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


def _care(state: Mapping[str, Any]) -> CareInstructions:
    return structure(state.get("care") or {}, CareInstructions)


def _retry(error: NexaError, state: Mapping[str, Any]) -> bool:
    """Whether a care step should raise ``error`` for the engine to retry it."""
    return error.retryable and not state.get("_final_attempt", True)


def _lead_language(
    voucher: VoucherContent, sub: SubCase, care: CareInstructions, renderer: Any
) -> str | None:
    if renderer is None:
        return sub.group.lead.contact.language
    return choose_language(
        sub.group.lead.contact.language, care.language, renderer.languages(voucher.airline_code)
    )


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
        self.care = deps.care(self.gate)

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
                        hotel_address=offer.address,
                        hotel_phone=offer.phone,
                        hotel_latitude=offer.latitude,
                        hotel_longitude=offer.longitude,
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
                payment=payment,
                payment_reference=request.card_token,
                hotel_address=offer.address,
                hotel_phone=offer.phone,
                hotel_latitude=offer.latitude,
                hotel_longitude=offer.longitude,
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

    # ------------------------------------------------------------------ care steps

    async def _soft_failure(
        self,
        state: Mapping[str, Any],
        tenant: TenantContext,
        sub: SubCase,
        step: str,
        category: ReviewCategory,
        error: NexaError,
    ) -> dict[str, Any]:
        """A care step gave up: a review item for an operator; the booking stands."""
        reason = f"{step} failed: {' '.join(str(error).split())}"
        await open_review(
            self.care,
            self.deps.store,
            tenant,
            Urn("review", f"rv-{digest(state['workflow_id'], step)}"),
            sub.case_urn,
            category,
            reason,
            [sub.group.group_id],
        )
        return {f"{step}_failed": reason}

    async def _records(
        self, state: Mapping[str, Any], tenant: TenantContext
    ) -> tuple[IssuedCard | None, tuple[Transfer, ...]]:
        """The card and rides earlier steps made (read by the URNs they returned)."""
        store = self.deps.store
        card = None
        if state.get("card"):
            try:
                card = await store.cards.get(tenant, Urn.parse(state["card"]))
            except NotFoundError:
                card = None
        transfers = []
        for urn in state.get("transfers") or ():
            try:
                transfers.append(await store.transfers.get(tenant, Urn.parse(urn)))
            except NotFoundError:
                continue
        return card, tuple(transfers)

    async def _voucher(
        self, state: Mapping[str, Any], tenant: TenantContext, sub: SubCase
    ) -> tuple[Any, IssuedCard | None, tuple[Transfer, ...]]:
        reservation = await self.deps.store.reservations.get(
            tenant, Urn.parse(state["reservation"])
        )
        card, transfers = await self._records(state, tenant)
        care = _care(state)
        links = self.deps.links
        voucher = build_voucher(
            reservation,
            sub,
            timezone=care.timezone,
            transfers=transfers,
            card_reference=card_reference_for(reservation),
            card=card,
            passenger_link=links.passenger(tenant.airline_urn, sub.urn),
            card_reveal_link=links.card_reveal(tenant.airline_urn, sub.urn, card.urn)
            if card is not None
            else None,
        )
        return voucher, card, transfers

    async def payment(self, state: Mapping[str, Any]) -> Mapping[str, Any]:
        """The group's meal card: issued once per (case, group) with its drops at the
        stay's meal windows, the drops due now loaded."""
        care = _care(state)
        if self.deps.payments is None or not care.meal_allowance:
            return {}
        tenant = _tenant(state)
        sub = await self.deps.store.sub_cases.get(tenant, Urn.parse(state["sub_case"]))
        try:
            card = await issue_meal_card(self.care, tenant, sub, care)
        except (TransientProviderError, PermanentProviderError) as exc:
            if _retry(exc, state):
                raise
            return await self._soft_failure(
                state, tenant, sub, "payment", ReviewCategory.PAYMENT_FAILED, exc
            )
        if card is None:
            return {}
        return {"card": str(card.urn), "card_ref": card.vendor_ref}

    async def transport(self, state: Mapping[str, Any]) -> Mapping[str, Any]:
        """AUTOMATIC tiers: both legs dispatched with the vendor the four rules pick."""
        care = _care(state)
        if care.transport is not DispatchMode.AUTOMATIC or not self.care.transport:
            return {}
        tenant = _tenant(state)
        store = self.deps.store
        sub = await store.sub_cases.get(tenant, Urn.parse(state["sub_case"]))
        reservation = await store.reservations.get(tenant, Urn.parse(state["reservation"]))
        outcome = await dispatch_transport(
            self.care,
            tenant,
            sub,
            reservation,
            care,
            mode=DispatchMode.AUTOMATIC,
            final_attempt=bool(state.get("_final_attempt", True)),
        )
        live = [t for t in outcome.transfers if t.status is TransferStatus.DISPATCHED]
        out: dict[str, Any] = {"transfers": [str(t.urn) for t in outcome.transfers]}
        if live:
            out["transfer"] = str(live[0].urn)
            out["transport_vendor"] = live[0].vendor
        if outcome.reviews:
            out["transport_failed"] = [str(r.urn) for r in outcome.reviews]
        return out

    async def notify(self, state: Mapping[str, Any]) -> Mapping[str, Any]:
        """The voucher to the lead: email (HTML, text, QR PNG) and SMS, in their language;
        fallbacks per channel; no deliverable channel → a NOTIFICATION review item."""
        care = _care(state)
        tenant = _tenant(state)
        sub = await self.deps.store.sub_cases.get(tenant, Urn.parse(state["sub_case"]))
        voucher, _, _ = await self._voucher(state, tenant, sub)
        report = await deliver_voucher(
            self.care,
            tenant,
            sub,
            voucher,
            channels=care.channels,
            airport_language=care.language,
            final_attempt=bool(state.get("_final_attempt", True)),
        )
        return {"notified": list(report.delivered), "voucher": unstructure(voucher)}

    async def offer_ready(self, state: Mapping[str, Any]) -> Mapping[str, Any]:
        """Write the passenger document, then PROCESSING → OFFER_READY with its events."""
        tenant = _tenant(state)
        sub = await self.deps.store.sub_cases.get(tenant, Urn.parse(state["sub_case"]))
        care = _care(state)
        if "notified" not in state:  # the notify step gave up for good
            failure: Mapping[str, Any] = next(
                (f for f in reversed(state.get("failures", [])) if f.get("step") == "notify"),
                {},
            )
            await self._soft_failure(
                state,
                tenant,
                sub,
                "notify",
                ReviewCategory.NOTIFICATION,
                RenderError(str(failure.get("error") or "the voucher could not be delivered")),
            )
        if self.deps.snapshots is not None:
            if state.get("voucher"):
                voucher = structure(state["voucher"], VoucherContent)
                card, transfers = await self._records(state, tenant)
            else:
                voucher, card, transfers = await self._voucher(state, tenant, sub)
            png = None
            if self.deps.renderer is not None:
                try:
                    png = self.deps.renderer.qr_png(voucher.qr_payload)
                except RenderError:
                    png = None  # the page shows the payload; the QR comes with a rewrite
            shown = (
                sub
                if sub.status is SubCaseStatus.OFFER_READY
                else sub.transition(SubCaseStatus.OFFER_READY)
            )
            doc = build_document(
                shown,
                published_at=self.deps.clock.now(),
                voucher=voucher,
                transfers=transfers,
                card=card,
                card_reveal_link=self.deps.links.card_reveal(tenant.airline_urn, sub.urn, card.urn)
                if card is not None
                else None,
                passenger_link=self.deps.links.passenger(tenant.airline_urn, sub.urn),
                transport_mode=care.transport,
                qr_png=png,
                language=_lead_language(voucher, sub, care, self.deps.renderer),
            )
            await publish_document(self.care, tenant, doc)
        if sub.status is not SubCaseStatus.OFFER_READY:
            voucher_event = self.rec.event(
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
                more_events=[voucher_event],
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
        """Cancel the group's meal card."""
        if not state.get("card") or self.deps.payments is None:
            return {}
        await cancel_meal_card(
            self.care,
            _tenant(state),
            Urn.parse(state["card"]),
            reason=str(state.get("reason") or "booking compensated"),
        )
        return {}

    async def cancel_transport(self, state: Mapping[str, Any]) -> Mapping[str, Any]:
        """Cancel the group's rides (a late cancellation records the vendor's fee and never
        blocks the rollback; a shared shuttle keeps going with the seats released)."""
        if not self.care.transport:
            return {}
        tenant = _tenant(state)
        sub = await self.deps.store.sub_cases.get(tenant, Urn.parse(state["sub_case"]))
        known = state.get("transfers")
        transfers = None
        if known is not None:
            _, transfers = await self._records(state, tenant)
        await cancel_sub_case_transport(
            self.care,
            tenant,
            sub,
            reason=str(state.get("reason") or "booking compensated"),
            transfers=transfers,
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
        try:
            card = await store.cards.get(tenant, card_urn_for(sub.case_urn, sub.group.group_id))
        except NotFoundError:
            card = None
        if card is not None and card.status is not CardStatus.CANCELLED:
            out["card"] = str(card.urn)
            out["card_ref"] = card.vendor_ref
        mine = without_status(sub.urn)
        out["transfers"] = [
            str(t.urn)
            for t in await store.transfers.find(tenant, case_urn=sub.case_urn)
            if mine in {without_status(u) for u in t.sub_case_urns}
        ]
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
