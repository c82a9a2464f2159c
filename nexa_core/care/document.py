"""The passenger document: what the passenger page shows, kept in the snapshot store.

One denormalised document per sub-case (the CQRS read side): the hotel with its address
and QR code, check-in and check-out on the airport's clock, the voucher, the rides and
their status, the meal card and its reveal link, the next departure. It is written when
the sub-case becomes OFFER_READY and rewritten whenever a ride, the card or the
reservation changes; passenger reads never touch the operational store.

URNs go through unchanged; there is never a PAN, CVV or a passenger document id in it.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from datetime import datetime

import attrs

from nexa_core.care.context import CareDeps
from nexa_core.care.voucher import (
    LocalTime,
    VoucherContent,
    build_voucher,
    card_reference_for,
    local_time,
)
from nexa_core.errors import ConfigurationError, NotFoundError, RenderError
from nexa_core.model import (
    CardStatus,
    DispatchMode,
    IssuedCard,
    Reservation,
    ReservationStatus,
    SubCase,
    Transfer,
    TransferDirection,
    TransferStatus,
    Vehicle,
)
from nexa_core.serialization import structure, unstructure
from nexa_core.tenancy import TenantContext
from nexa_core.urn import Urn, without_status

__all__ = [
    "DOCUMENT_SCHEMA",
    "CareRecords",
    "DocumentCard",
    "DocumentRide",
    "PassengerDocument",
    "build_document",
    "care_records",
    "publish_document",
    "qr_data_uri",
    "read_document",
    "refresh_document",
]

#: bumped when the document's shape changes (readers check it)
DOCUMENT_SCHEMA = 2


@attrs.frozen
class DocumentRide:
    """One ride as the passenger sees it."""

    transfer_urn: Urn
    direction: TransferDirection
    vehicle: Vehicle
    pickup: LocalTime
    status: TransferStatus
    vendor: str | None = None
    eta_minutes: int | None = None
    mode: DispatchMode | None = None


@attrs.frozen
class DocumentCard:
    """The meal card: balance and the hosted reveal link (never card details)."""

    card_urn: Urn
    status: CardStatus
    currency: str
    loaded: str
    balance: str
    planned: str
    reveal_link: str | None = None


@attrs.frozen
class PassengerDocument:
    """The passenger page's data for one sub-case."""

    schema: int
    airline_urn: Urn
    case_urn: Urn
    sub_case_urn: Urn
    status: str
    group_id: str
    pnr: str
    passengers: tuple[str, ...]
    published_at: datetime
    #: the tier's transport rule (ON_DEMAND: the page offers "request transport")
    transport_mode: DispatchMode | None = None
    voucher: VoucherContent | None = None
    qr_payload: str | None = None  # the reservation URN the front desk scans
    qr_png: str | None = None  # the same QR code as a PNG data URI
    rides: tuple[DocumentRide, ...] = ()
    card: DocumentCard | None = None
    passenger_link: str | None = None
    next_departure: LocalTime | None = None
    language: str | None = None  # the lead's message language (the page's default)


def qr_data_uri(png: bytes) -> str:
    """A ``data:image/png;base64,…`` URI for an ``<img>``."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _rides(sub_case: SubCase, transfers: Sequence[Transfer], tz: str) -> tuple[DocumentRide, ...]:
    mine = without_status(sub_case.urn)
    out = []
    for t in sorted(transfers, key=lambda t: t.pickup_at):
        if mine not in {without_status(u) for u in t.sub_case_urns}:
            continue
        out.append(
            DocumentRide(
                without_status(t.urn),
                t.direction,
                t.vehicle,
                local_time(t.pickup_at, tz),
                t.status,
                t.vendor,
                t.eta_minutes,
                t.mode,
            )
        )
    return tuple(out)


def build_document(
    sub_case: SubCase,
    *,
    published_at: datetime,
    voucher: VoucherContent | None = None,
    transfers: Sequence[Transfer] = (),
    card: IssuedCard | None = None,
    card_reveal_link: str | None = None,
    passenger_link: str | None = None,
    transport_mode: DispatchMode | None = None,
    qr_png: bytes | None = None,
    language: str | None = None,
) -> PassengerDocument:
    """The document for ``sub_case`` from the records its caller holds (pure)."""
    tz = sub_case.stay_plan.timezone if sub_case.stay_plan is not None else "UTC"
    live_card = card if card is not None and card.status is not CardStatus.CANCELLED else None
    return PassengerDocument(
        schema=DOCUMENT_SCHEMA,
        airline_urn=sub_case.airline_urn,
        case_urn=without_status(sub_case.case_urn),
        sub_case_urn=without_status(sub_case.urn),
        status=sub_case.status.value,
        group_id=sub_case.group.group_id,
        pnr=sub_case.group.pnr_urn.id,
        passengers=tuple(p.contact.name or p.urn.id for p in sub_case.group.passengers),
        published_at=published_at,
        transport_mode=transport_mode,
        voucher=voucher,
        qr_payload=voucher.qr_payload if voucher is not None else None,
        qr_png=qr_data_uri(qr_png) if qr_png is not None else None,
        rides=_rides(sub_case, transfers, tz),
        card=DocumentCard(
            without_status(live_card.urn),
            live_card.status,
            live_card.currency,
            str(live_card.loaded.amount),
            str(live_card.balance.amount),
            str(live_card.planned.amount),
            card_reveal_link,
        )
        if live_card is not None
        else None,
        passenger_link=passenger_link,
        next_departure=local_time(sub_case.next_departure, tz)
        if sub_case.next_departure is not None
        else None,
        language=language or sub_case.group.lead.contact.language,
    )


async def publish_document(deps: CareDeps, tenant: TenantContext, doc: PassengerDocument) -> None:
    """Write (replace) the document in the snapshot store."""
    if deps.snapshots is None:
        raise ConfigurationError("publishing passenger documents needs a snapshot store")
    await deps.snapshots.put(tenant, doc.sub_case_urn, unstructure(doc))


async def read_document(
    deps: CareDeps, tenant: TenantContext, sub_case_urn: Urn
) -> PassengerDocument:
    """The published document (NotFoundError when none, or another tenant's)."""
    if deps.snapshots is None:
        raise ConfigurationError("reading passenger documents needs a snapshot store")
    raw = await deps.snapshots.get(tenant, without_status(sub_case_urn))
    if raw.get("schema") != DOCUMENT_SCHEMA:
        raise NotFoundError(
            f"{sub_case_urn} has no current passenger document (schema {raw.get('schema')})",
            urn=str(sub_case_urn),
        )
    return structure(dict(raw), PassengerDocument)


@attrs.frozen
class CareRecords:
    """A sub-case's care records, read together (for the paths outside the saga)."""

    sub_case: SubCase
    reservation: Reservation | None
    card: IssuedCard | None
    transfers: tuple[Transfer, ...]

    def voucher(
        self, deps: CareDeps, *, card_reference: str | None = None
    ) -> VoucherContent | None:
        """The voucher these records make (None before the reservation is confirmed)."""
        if self.reservation is None or self.reservation.status is not ReservationStatus.CONFIRMED:
            return None
        return build_voucher(
            self.reservation,
            self.sub_case,
            transfers=self.transfers,
            card_reference=card_reference or card_reference_for(self.reservation),
            card=self.card,
            passenger_link=deps.links.passenger(self.sub_case.airline_urn, self.sub_case.urn),
            card_reveal_link=deps.links.card_reveal(
                self.sub_case.airline_urn, self.sub_case.urn, self.card.urn
            )
            if self.card is not None
            else None,
        )


async def care_records(deps: CareDeps, tenant: TenantContext, sub_case_urn: Urn) -> CareRecords:
    """The sub-case, its live reservation, its group's card and its rides."""
    store = deps.store
    sub = await store.sub_cases.get(tenant, sub_case_urn)
    reservation = None
    if sub.reservation_urn is not None:
        try:
            reservation = await store.reservations.get(tenant, sub.reservation_urn)
        except NotFoundError:
            reservation = None
    cards = await store.cards.find(tenant, case_urn=sub.case_urn, group_id=sub.group.group_id)
    mine = without_status(sub.urn)
    transfers = tuple(
        t
        for t in await store.transfers.find(tenant, case_urn=sub.case_urn)
        if mine in {without_status(u) for u in t.sub_case_urns}
    )
    return CareRecords(sub, reservation, cards[0] if cards else None, transfers)


async def refresh_document(
    deps: CareDeps,
    tenant: TenantContext,
    sub_case_urn: Urn,
    *,
    transport_mode: DispatchMode | None = None,
) -> PassengerDocument | None:
    """Rebuild the document from the records and rewrite it (after a ride, card or
    reservation change). None when no snapshot store is wired or the sub-case never
    reached an offer."""
    if deps.snapshots is None:
        return None
    records = await care_records(deps, tenant, sub_case_urn)
    voucher = records.voucher(deps)
    language = None
    try:
        previous = await read_document(deps, tenant, sub_case_urn)
        transport_mode = transport_mode or previous.transport_mode
        language = previous.language
    except NotFoundError:
        if voucher is None:
            return None  # never published: nothing for a passenger to see yet
    png = None
    if voucher is not None and deps.renderer is not None:
        try:
            png = deps.renderer.qr_png(voucher.qr_payload)
        except RenderError:
            png = None  # the page still shows the payload; the QR comes with the next write
    doc = build_document(
        records.sub_case,
        published_at=deps.clock.now(),
        voucher=voucher,
        transfers=records.transfers,
        card=records.card,
        card_reveal_link=deps.links.card_reveal(
            tenant.airline_urn, records.sub_case.urn, records.card.urn
        )
        if records.card is not None
        else None,
        passenger_link=deps.links.passenger(tenant.airline_urn, records.sub_case.urn),
        transport_mode=transport_mode,
        qr_png=png,
        language=language,
    )
    await publish_document(deps, tenant, doc)
    return doc
