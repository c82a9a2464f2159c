"""Hotel offers, soft-holds and reservations."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

import attrs

from nexa_core.errors import InvalidInputError
from nexa_core.model.common import Money, StateMachine, to_decimal
from nexa_core.urn import Urn

__all__ = [
    "RESERVATION_LIFECYCLE",
    "BoardBasis",
    "Hold",
    "HotelOffer",
    "PaymentMode",
    "Reservation",
    "ReservationStatus",
    "RoomOffer",
    "RoomType",
]


class RoomType(enum.StrEnum):
    """Room types by occupancy."""

    SGL = "SGL"
    DBL = "DBL"
    TWN = "TWN"
    TRP = "TRP"
    QUAD = "QUAD"

    @property
    def capacity(self) -> int:
        """Beds (occupants who are not infants) the room takes."""
        return {"SGL": 1, "DBL": 2, "TWN": 2, "TRP": 3, "QUAD": 4}[self.value]


class BoardBasis(enum.StrEnum):
    """Meal plan included with the room."""

    RO = "RO"  # room only
    BB = "BB"
    HB = "HB"
    FB = "FB"
    AI = "AI"


class PaymentMode(enum.StrEnum):
    """How the hotel is paid."""

    GUARANTEE = "GUARANTEE"
    CARD = "CARD"


@attrs.frozen
class RoomOffer:
    """Rooms of one type in an offer."""

    room_type: RoomType
    count: int
    nightly_rate: Decimal = attrs.field(converter=to_decimal)
    accessible: bool = False

    def __attrs_post_init__(self) -> None:
        if self.count < 0:
            raise InvalidInputError("room count cannot be negative", field="count")
        if self.nightly_rate < 0:
            raise InvalidInputError("nightly rate cannot be negative", field="nightly_rate")


@attrs.frozen
class HotelOffer:
    """The canonical offer every hotel provider normalises into."""

    urn: Urn  # urn:offer:… — ephemeral, the soft-hold key
    hotel_urn: Urn  # urn:hotel:…:vendor:<provider>
    name: str
    address: str
    latitude: float
    longitude: float
    stars: int | None
    rooms: tuple[RoomOffer, ...]
    currency: str
    check_in: date
    check_out: date
    amenities: frozenset[str] = frozenset()
    chain: str | None = None
    board_basis: BoardBasis = BoardBasis.RO
    cancellation_deadline: datetime | None = None
    accepted_payments: frozenset[PaymentMode] = frozenset({PaymentMode.GUARANTEE})
    external_ids: tuple[tuple[str, str], ...] = ()
    phone: str | None = None
    fetched_at: datetime | None = None
    market_rate: Decimal | None = None  # for contracts: the comparable public rate

    @property
    def vendor(self) -> str:
        """The provider that surfaced the offer (bookings go back to it)."""
        return self.hotel_urn.vendor or "direct"

    @property
    def nights(self) -> int:
        """Nights covered by the offer."""
        return (self.check_out - self.check_in).days

    @property
    def total_rooms(self) -> int:
        """Rooms of every type."""
        return sum(r.count for r in self.rooms)

    def cheapest_rate(self) -> Money | None:
        """The lowest nightly rate among room types with rooms left."""
        rates = [r.nightly_rate for r in self.rooms if r.count > 0]
        return Money(min(rates), self.currency) if rates else None


@attrs.frozen
class Hold:
    """A per-attempt soft-hold on an offer's rooms; it expires by itself."""

    attempt_urn: Urn  # urn:hold-attempt:…
    offer_urn: Urn
    rooms: int
    expires_at: datetime
    owner: str


class ReservationStatus(enum.StrEnum):
    """Reservation lifecycle."""

    PENDING = "PENDING"
    CONFIRMED = "CONFIRMED"
    CANCELLED = "CANCELLED"
    FAILED = "FAILED"


_R = ReservationStatus
RESERVATION_LIFECYCLE: StateMachine[ReservationStatus] = StateMachine(
    "reservation",
    {
        _R.PENDING: frozenset({_R.CONFIRMED, _R.FAILED, _R.CANCELLED}),
        _R.CONFIRMED: frozenset({_R.CANCELLED}),
        _R.CANCELLED: frozenset(),
        _R.FAILED: frozenset(),
    },
)


@attrs.frozen
class Reservation:
    """A hotel booking; the Nexa URN is minted before the partner is called."""

    urn: Urn
    airline_urn: Urn
    case_urn: Urn
    sub_case_urn: Urn
    offer_urn: Urn
    hotel_urn: Urn
    hotel_name: str
    check_in: date
    check_out: date
    rooms: tuple[RoomType, ...]
    total: Money
    payment: PaymentMode = PaymentMode.GUARANTEE
    status: ReservationStatus = ReservationStatus.PENDING
    confirmation_urn: Urn | None = None  # urn:reservation:<locator>:vendor:<v>:status:confirmed
    idempotency_key: str = ""
    version: int = 0
    #: what a voucher shows about the hotel (from the offer booked)
    hotel_address: str = ""
    hotel_phone: str | None = None
    hotel_latitude: float | None = None
    hotel_longitude: float | None = None
    #: what the hotel's card charge is matched by when paid by CARD (a PSP token, never a PAN)
    payment_reference: str | None = None

    def transition(self, to: ReservationStatus) -> Reservation:
        """A copy in state ``to`` (checked against the lifecycle)."""
        RESERVATION_LIFECYCLE.check(self.status, to, urn=self.urn)
        return attrs.evolve(self, status=to)
