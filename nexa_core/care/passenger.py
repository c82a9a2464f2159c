"""Actions on one sub-case's care: its voucher page, accepting or declining the offer,
arranging a ride — for the passenger, and for an operator acting for them.

Passenger calls take a verified passenger :class:`~nexa_core.auth.Principal` (a token
scoped to one case; the tenant comes from it) and a sub-case URN; a sub-case of another
case or tenant is reported as not found, and operator principals are refused. Reads (the
page, the voucher, the card reveal link, ride status) come only from the snapshot store;
writes (accept, decline, request transport) go through the operational store and then
rewrite the passenger document. The same actions at tenant level (:func:`voucher_of`,
:func:`arrange_transport`) serve the operator commands (``nexa care voucher``,
``nexa care dispatch``), so the passenger page and the operator see one implementation.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from nexa_core.auth import Principal, PrincipalKind, requires_passenger
from nexa_core.care.context import CareDeps, CareInstructions, RenderedMessage, audit_entry
from nexa_core.care.document import (
    DocumentRide,
    PassengerDocument,
    read_document,
    refresh_document,
)
from nexa_core.care.notifications import announce_transfer, choose_language
from nexa_core.care.transport import TransportOutcome, dispatch_transport
from nexa_core.errors import ConflictError, NotFoundError, PermissionDeniedError
from nexa_core.model import (
    DispatchMode,
    ReservationStatus,
    SubCase,
    SubCaseStatus,
    TransferDirection,
    TransferStatus,
)
from nexa_core.model.audit import Actor
from nexa_core.tenancy import TenantContext
from nexa_core.urn import Urn, without_status

__all__ = [
    "CompensationHook",
    "accept_offer",
    "arrange_transport",
    "card_reveal",
    "decline_offer",
    "passenger_document",
    "passenger_tenant",
    "request_transport",
    "transport_status",
    "voucher_of",
    "voucher_page",
]

#: Called by :func:`decline_offer` to hand the sub-case to the saga's compensation
#: (``CaseOrchestrator.decline`` runs the rollback saga).
CompensationHook = Callable[[TenantContext, SubCase], Awaitable[object]]


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


def _same_case(principal: Principal, case_urn: Urn, sub_case_urn: Urn) -> None:
    assert principal.case_urn is not None
    if without_status(case_urn) != without_status(principal.case_urn):
        raise NotFoundError(f"{sub_case_urn} not found", urn=str(sub_case_urn))


async def _document(
    deps: CareDeps, principal: Principal, sub_case_urn: Urn
) -> tuple[TenantContext, PassengerDocument]:
    tenant = passenger_tenant(principal)
    doc = await read_document(deps, tenant, sub_case_urn)  # another tenant's: NotFoundError
    _same_case(principal, doc.case_urn, sub_case_urn)
    return tenant, doc


async def _sub_case(
    deps: CareDeps, principal: Principal, sub_case_urn: Urn
) -> tuple[TenantContext, SubCase]:
    tenant = passenger_tenant(principal)
    sub = await deps.store.sub_cases.get(tenant, sub_case_urn)  # another tenant's: NotFound
    _same_case(principal, sub.case_urn, sub_case_urn)
    return tenant, sub


# --------------------------------------------------------------------------- reads


@requires_passenger()
async def passenger_document(
    deps: CareDeps, sub_case_urn: Urn, *, principal: Principal
) -> PassengerDocument:
    """The passenger page: hotel, address and QR, rides, voucher, card, next departure."""
    _, doc = await _document(deps, principal, sub_case_urn)
    return doc


async def voucher_of(
    deps: CareDeps, tenant: TenantContext, sub_case_urn: Urn, *, language: str | None = None
) -> tuple[PassengerDocument, RenderedMessage]:
    """The published voucher of a sub-case rendered as HTML and text (QR PNG attached), in
    ``language`` when templates exist, else the lead's language, else English. Reads the
    passenger document only."""
    doc = await read_document(deps, tenant, sub_case_urn)
    if doc.voucher is None:
        raise ConflictError(
            f"{sub_case_urn} has no voucher yet ({doc.status})", urn=str(sub_case_urn)
        )
    renderer = deps.need_renderer()
    lang = choose_language(language, doc.language, renderer.languages(tenant.airline_urn.id))
    return doc, renderer.render_voucher(doc.voucher, lang)


@requires_passenger()
async def voucher_page(
    deps: CareDeps, sub_case_urn: Urn, *, principal: Principal, language: str | None = None
) -> RenderedMessage:
    """The passenger's voucher (see :func:`voucher_of`)."""
    tenant, _ = await _document(deps, principal, sub_case_urn)
    _, rendered = await voucher_of(deps, tenant, sub_case_urn, language=language)
    return rendered


@requires_passenger()
async def card_reveal(deps: CareDeps, sub_case_urn: Urn, *, principal: Principal) -> str:
    """The card partner's hosted reveal link (Nexa never sees the card number)."""
    _, doc = await _document(deps, principal, sub_case_urn)
    if doc.card is None or doc.card.reveal_link is None:
        raise NotFoundError(f"{sub_case_urn} has no meal card to reveal", urn=str(sub_case_urn))
    return doc.card.reveal_link


@requires_passenger()
async def transport_status(
    deps: CareDeps, sub_case_urn: Urn, *, principal: Principal
) -> tuple[DocumentRide, ...]:
    """The group's rides and where they stand (what a live page polls or streams)."""
    _, doc = await _document(deps, principal, sub_case_urn)
    return doc.rides


# --------------------------------------------------------------------------- writes


@requires_passenger()
async def accept_offer(deps: CareDeps, sub_case_urn: Urn, *, principal: Principal) -> SubCase:
    """The passenger accepts the hotel offer: OFFER_READY → RESOLVED (a repeat is a no-op)."""
    tenant, sub = await _sub_case(deps, principal, sub_case_urn)
    if sub.status is SubCaseStatus.RESOLVED:
        return sub
    async with deps.store.transaction() as tx:
        updated: SubCase = await tx.sub_cases.update(tenant, sub.transition(SubCaseStatus.RESOLVED))
        await tx.audit.append(
            tenant,
            audit_entry(
                deps,
                tenant,
                "subcase.accepted",
                sub.urn,
                "accepted by passenger",
                {"status": sub.status.value},
                {"status": updated.status.value},
            ),
        )
    await refresh_document(deps, tenant, sub.urn)
    return updated


@requires_passenger()
async def decline_offer(
    deps: CareDeps,
    sub_case_urn: Urn,
    *,
    principal: Principal,
    compensate: CompensationHook,
    reason: str = "declined by passenger",
) -> SubCase:
    """The passenger declines: audited, then ``compensate`` undoes the offer (the
    rollback saga cancels rides, card and booking and returns the sub-case to PENDING)."""
    tenant, sub = await _sub_case(deps, principal, sub_case_urn)
    if sub.status is not SubCaseStatus.OFFER_READY:
        raise ConflictError(
            f"{sub.urn} has no offer to decline ({sub.status.value})", urn=str(sub.urn)
        )
    await deps.store.audit.append(
        tenant, audit_entry(deps, tenant, "subcase.declined", sub.urn, reason)
    )
    await compensate(tenant, sub)
    await refresh_document(deps, tenant, sub.urn)
    return await deps.store.sub_cases.get(tenant, sub.urn)


async def arrange_transport(
    deps: CareDeps,
    tenant: TenantContext,
    sub: SubCase,
    instructions: CareInstructions,
    *,
    mode: DispatchMode,
    vendor: str | None = None,
    directions: Sequence[TransferDirection] = tuple(TransferDirection),
    note: str | None = None,
) -> TransportOutcome:
    """Dispatch a booked sub-case's rides, tell the lead and rewrite their page.

    ``mode`` is how the ride was asked for: ON_DEMAND (the passenger) or MANUAL (an
    operator, who names the ``vendor`` and may leave a ``note`` for the driver). Refused
    before the hotel is confirmed.
    """
    if sub.status not in (SubCaseStatus.OFFER_READY, SubCaseStatus.RESOLVED) or (
        sub.reservation_urn is None
    ):
        raise ConflictError(
            f"transport can be arranged once the hotel is booked (sub-case is {sub.status.value})",
            urn=str(sub.urn),
        )
    reservation = await deps.store.reservations.get(tenant, sub.reservation_urn)
    if reservation.status is not ReservationStatus.CONFIRMED:
        raise ConflictError(f"{reservation.urn} is not confirmed", urn=str(reservation.urn))
    outcome = await dispatch_transport(
        deps,
        tenant,
        sub,
        reservation,
        instructions,
        mode=mode,
        directions=directions,
        vendor=vendor,
        note=note,
    )
    for t in outcome.transfers:
        if t.status is TransferStatus.DISPATCHED and t.mode is mode:
            await announce_transfer(deps, tenant, sub, t, airport_language=instructions.language)
    await refresh_document(deps, tenant, sub.urn, transport_mode=instructions.transport)
    return outcome


@requires_passenger()
async def request_transport(
    deps: CareDeps,
    sub_case_urn: Urn,
    *,
    principal: Principal,
    instructions: CareInstructions,
) -> TransportOutcome:
    """The passenger taps "Request transport" (ON_DEMAND tiers; AUTOMATIC ones already
    ride): the dispatcher picks the vendor, the lead is told, the page is rewritten.

    ``instructions`` is the care the case's policy owes the group
    (:func:`~nexa_core.care.care_for`). MANUAL tiers are refused (the airline arranges
    those), and so is a request before the hotel is booked.
    """
    tenant, sub = await _sub_case(deps, principal, sub_case_urn)
    if instructions.transport is DispatchMode.MANUAL:
        raise ConflictError(
            "transport for this booking is arranged by the airline",
            urn=str(sub.urn),
            mode=instructions.transport.value,
        )
    return await arrange_transport(deps, tenant, sub, instructions, mode=DispatchMode.ON_DEMAND)
