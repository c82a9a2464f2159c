"""The offline hotel inventory document (``nexa allocate --inventory``).

It lists hotels with their rooms for one stay, in the canonical offer's terms; it is
validated with pydantic and turned into :class:`~nexa_core.model.HotelOffer` values.
``nexa schema inventory`` prints its JSON Schema.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from nexa_adapters.documents.manifest import pydantic_problems
from nexa_core.errors import InputTooLargeError, InvalidInputError
from nexa_core.model import BoardBasis, HotelOffer, PaymentMode, RoomOffer, RoomType
from nexa_core.policy.amenities import normalize_amenity
from nexa_core.urn import Urn

__all__ = ["MAX_INVENTORY_HOTELS", "InventoryDocument", "parse_inventory"]

MAX_INVENTORY_HOTELS = 5_000


class RoomDoc(BaseModel):
    """Rooms of one type."""

    model_config = ConfigDict(extra="forbid")

    type: RoomType
    count: int = Field(ge=0, le=10_000)
    nightly_rate: Decimal = Field(ge=0, max_digits=12, decimal_places=2)
    accessible: bool = False


class HotelDoc(BaseModel):
    """One hotel's offer."""

    model_config = ConfigDict(extra="forbid", str_max_length=256)

    id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")
    vendor: str = Field("sandbox", pattern=r"^[a-z][a-z0-9-]{0,31}$")
    name: str = Field(min_length=1)
    address: str = ""
    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)
    stars: int | None = Field(None, ge=1, le=5)
    rooms: list[RoomDoc] = Field(min_length=1, max_length=20)
    amenities: list[str] = Field(default_factory=list, max_length=50)
    chain: str | None = None
    board_basis: BoardBasis = BoardBasis.RO
    accepted_payments: list[PaymentMode] = Field(
        default_factory=lambda: [PaymentMode.GUARANTEE], min_length=1
    )
    external_ids: dict[str, str] = Field(default_factory=dict, max_length=10)
    market_rate: Decimal | None = Field(None, ge=0, max_digits=12, decimal_places=2)
    phone: str | None = Field(None, max_length=20)


class InventoryDocument(BaseModel):
    """Hotels and rooms for one stay (``nexa schema inventory`` prints this schema)."""

    model_config = ConfigDict(extra="forbid")

    currency: str = Field("USD", pattern=r"^[A-Z]{3}$")
    check_in: date
    check_out: date
    hotels: list[HotelDoc] = Field(min_length=1, max_length=MAX_INVENTORY_HOTELS)

    @model_validator(mode="after")
    def _dates(self) -> InventoryDocument:
        if self.check_out <= self.check_in:
            raise ValueError("check_out must be after check_in")
        return self


def _tag(value: str) -> str:
    """The policy's amenity tag when known (``wifi`` → ``WIFI``), else the same shape."""
    try:
        return normalize_amenity(value)
    except InvalidInputError:
        return re.sub(r"[^A-Z0-9]+", "_", value.strip().upper()).strip("_")


def parse_inventory(data: Any) -> tuple[HotelOffer, ...]:
    """Validate a decoded inventory document into canonical offers.

    Raises :class:`InputTooLargeError` (too many hotels) or :class:`InvalidInputError`
    naming the JSON path of the first problem (all in ``context['problems']``).
    """
    if not isinstance(data, dict):
        raise InvalidInputError("an inventory must be a JSON object", problems=["$: not an object"])
    hotels = data.get("hotels")
    if isinstance(hotels, list) and len(hotels) > MAX_INVENTORY_HOTELS:
        raise InputTooLargeError(
            f"inventory has {len(hotels)} hotels; the limit is {MAX_INVENTORY_HOTELS}",
            hotels=len(hotels),
        )
    try:
        doc = InventoryDocument.model_validate(data)
    except ValidationError as exc:
        problems = pydantic_problems(exc)
        raise InvalidInputError(
            f"invalid inventory: {problems[0]}"
            + (f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""),
            problems=problems,
        ) from None
    seen: set[tuple[str, str]] = set()
    offers = []
    for i, h in enumerate(doc.hotels):
        if (h.vendor, h.id) in seen:
            raise InvalidInputError(
                f"invalid inventory: $.hotels[{i}].id: duplicate {h.id!r} for vendor {h.vendor}",
                problems=[f"$.hotels[{i}].id: duplicate"],
            )
        seen.add((h.vendor, h.id))
        offers.append(
            HotelOffer(
                urn=Urn(
                    "offer",
                    f"{h.vendor}-{h.id}-{doc.check_in:%Y%m%d}-{doc.check_out:%Y%m%d}",
                ),
                hotel_urn=Urn("hotel", h.id, h.vendor),
                name=h.name,
                address=h.address,
                latitude=h.latitude,
                longitude=h.longitude,
                stars=h.stars,
                rooms=tuple(
                    RoomOffer(r.type, r.count, r.nightly_rate, r.accessible) for r in h.rooms
                ),
                currency=doc.currency,
                check_in=doc.check_in,
                check_out=doc.check_out,
                amenities=frozenset(_tag(a) for a in h.amenities if a.strip()),
                chain=h.chain,
                board_basis=h.board_basis,
                accepted_payments=frozenset(h.accepted_payments),
                external_ids=tuple(sorted(h.external_ids.items())),
                phone=h.phone,
                market_rate=h.market_rate,
            )
        )
    return tuple(offers)
