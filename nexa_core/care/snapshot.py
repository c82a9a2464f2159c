"""The passenger document published to the snapshot store (the passenger read side).

A lightweight, denormalised view of one sub-case: hotel, address and QR payload,
transport instructions, voucher summary and the card reveal link. URNs go through
unchanged; there is never a PAN, CVV or a passenger document id in it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from nexa_core.care.voucher import VoucherContent
from nexa_core.model import IssuedCard, SubCase, Transfer
from nexa_core.model.care import TransferStatus
from nexa_core.urn import without_status

__all__ = ["SNAPSHOT_VERSION", "passenger_document"]

SNAPSHOT_VERSION = 1


def passenger_document(
    sub_case: SubCase,
    *,
    voucher: VoucherContent | None,
    transfers: Sequence[Transfer] = (),
    card: IssuedCard | None = None,
    card_reveal_link: str | None = None,
    voucher_links: dict[str, str] | None = None,
    published_at: datetime,
    timezone: str | None = None,
) -> dict[str, Any]:
    """The document for ``sub_case`` (plain JSON values; times in ``timezone``, the
    airport's, with their offset)."""
    mine = without_status(sub_case.urn)
    doc: dict[str, Any] = {
        "schema": SNAPSHOT_VERSION,
        "subCaseUrn": str(mine),
        "caseUrn": str(without_status(sub_case.case_urn)),
        "status": sub_case.status.value,
        "groupId": sub_case.group.group_id,
        "passengers": [p.contact.name or p.urn.id for p in sub_case.group.passengers],
        "publishedAt": published_at.isoformat(),
        "hotel": None,
        "voucher": None,
        "transport": [],
        "card": None,
    }
    if voucher is not None:
        doc["hotel"] = {
            "urn": str(without_status(voucher.hotel.hotel_urn)),
            "name": voucher.hotel.name,
            "address": voucher.hotel.address,
            "phone": voucher.hotel.phone,
            "latitude": voucher.hotel.latitude,
            "longitude": voucher.hotel.longitude,
            "checkIn": voucher.check_in.isoformat(),
            "checkOut": voucher.check_out.isoformat(),
            "timezone": voucher.check_in.timezone,
        }
        doc["voucher"] = {
            "reservationUrn": str(voucher.reservation_urn),
            "confirmationCode": voucher.confirmation_code,
            "qrPayload": voucher.qr_payload,
            "rooms": [{"type": r.room_type.value, "count": r.count} for r in voucher.rooms],
            "payment": voucher.payment.value,
            "specialInstructions": list(voucher.special_instructions),
            "links": dict(voucher_links or {}),
        }
        if voucher.flight is not None:
            doc["flight"] = {
                "number": voucher.flight.number,
                "departure": voucher.flight.departure.isoformat(),
                "origin": voucher.flight.origin,
                "destination": voucher.flight.destination,
            }
    zone = ZoneInfo(timezone) if timezone else None
    for t in sorted(transfers, key=lambda t: t.pickup_at):
        if mine not in {without_status(u) for u in t.sub_case_urns}:
            continue
        if t.status in (TransferStatus.CANCELLED, TransferStatus.FAILED):
            continue
        doc["transport"].append(
            {
                "transferUrn": str(without_status(t.urn)),
                "direction": t.direction.value,
                "vehicle": t.vehicle.value,
                "pickupAt": (t.pickup_at.astimezone(zone) if zone else t.pickup_at).isoformat(),
                "status": t.status.value,
                "vendor": t.vendor,
            }
        )
    if card is not None:
        doc["card"] = {
            "cardUrn": str(without_status(card.urn)),
            "status": card.status.value,
            "currency": card.currency,
            "balance": str(card.balance.amount),
            "revealLink": card_reveal_link,
        }
    return doc
