"""Voucher content: what a hotel voucher says, built from a confirmed reservation.

Pure domain: no rendering here (``nexa_adapters.render`` turns :class:`VoucherContent`
into HTML and text). Times are shown in the airport's time zone with an explicit UTC
offset, so a front desk never has to guess which clock a voucher means.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import date, datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs

from nexa_core.errors import ConflictError, InvalidInputError
from nexa_core.model import (
    CardStatus,
    Contract,
    Flight,
    HotelOffer,
    IssuedCard,
    Money,
    PassengerGroup,
    PaymentMode,
    Reservation,
    ReservationStatus,
    RoomType,
    SpecialNeed,
    StayPlan,
    SubCase,
    Transfer,
    TransferDirection,
    TransferStatus,
    Vehicle,
)
from nexa_core.urn import Urn, without_status

__all__ = [
    "DEFAULT_CHECK_IN",
    "DEFAULT_CHECK_OUT",
    "SPECIAL_INSTRUCTIONS",
    "HotelInfo",
    "LocalTime",
    "VoucherContent",
    "VoucherFlight",
    "VoucherMealDrop",
    "VoucherMeals",
    "VoucherRoom",
    "VoucherTransport",
    "build_voucher",
    "card_reference_for",
    "local_time",
    "special_instructions",
]

#: Hotel default times used when no stay plan gives explicit ones.
DEFAULT_CHECK_IN = time(15, 0)
DEFAULT_CHECK_OUT = time(12, 0)

#: special need → instruction keys (templates localise the keys)
SPECIAL_INSTRUCTIONS: dict[SpecialNeed, tuple[str, ...]] = {
    SpecialNeed.WCHR: ("accessible-room", "wheelchair-assistance"),
    SpecialNeed.WCHS: ("accessible-room", "wheelchair-assistance", "ground-floor"),
    SpecialNeed.WCHC: ("accessible-room", "wheelchair-assistance", "ground-floor"),
    SpecialNeed.DPNA: ("accessible-room", "assistance"),
    SpecialNeed.BLND: ("assistance",),
    SpecialNeed.DEAF: ("visual-alerts",),
    SpecialNeed.MEDA: ("medical-case",),
    SpecialNeed.PREG: ("assistance",),
    SpecialNeed.UMNR: ("unaccompanied-minor",),
}


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidInputError(f"unknown time zone {name!r}", field="timezone") from exc


@attrs.frozen
class LocalTime:
    """An instant shown on a local clock: the aware local datetime plus its zone name."""

    at: datetime  # aware, in ``timezone``
    timezone: str

    @property
    def utc_offset(self) -> str:
        """The explicit offset, e.g. ``-03:00`` (changes across DST)."""
        raw = self.at.strftime("%z")
        return f"{raw[:3]}:{raw[3:]}"

    def isoformat(self) -> str:
        """ISO 8601 with the offset."""
        return self.at.isoformat()


def local_time(at: datetime, timezone: str) -> LocalTime:
    """``at`` (aware) converted to ``timezone``."""
    if at.tzinfo is None:
        raise InvalidInputError("a voucher time must be timezone-aware", field="at")
    return LocalTime(at.astimezone(_zone(timezone)), timezone)


@attrs.frozen
class HotelInfo:
    """What a voucher shows about a hotel (from an offer or a direct contract)."""

    hotel_urn: Urn
    name: str
    address: str
    phone: str | None = None
    latitude: float | None = None
    longitude: float | None = None

    @classmethod
    def from_offer(cls, offer: HotelOffer) -> HotelInfo:
        """From the canonical offer the reservation was booked on."""
        return cls(
            offer.hotel_urn, offer.name, offer.address, offer.phone, offer.latitude, offer.longitude
        )

    @classmethod
    def from_reservation(cls, reservation: Reservation) -> HotelInfo:
        """From the hotel facts the reservation keeps (copied from the offer booked)."""
        return cls(
            reservation.hotel_urn,
            reservation.hotel_name,
            reservation.hotel_address,
            reservation.hotel_phone,
            reservation.hotel_latitude,
            reservation.hotel_longitude,
        )

    @classmethod
    def from_contract(cls, hotel_urn: Urn, contract: Contract) -> HotelInfo:
        """From a direct contract."""
        return cls(
            hotel_urn,
            contract.hotel_name,
            contract.address,
            contract.phone,
            contract.latitude,
            contract.longitude,
        )


@attrs.frozen
class VoucherRoom:
    """Rooms of one type."""

    room_type: RoomType
    count: int


@attrs.frozen
class VoucherFlight:
    """The re-accommodated flight."""

    number: str
    departure: LocalTime
    origin: str
    destination: str


@attrs.frozen
class VoucherTransport:
    """The transport block of a voucher: one ride, its pickup and where it stands."""

    direction: TransferDirection
    vehicle: Vehicle
    pickup: LocalTime
    vendor: str | None = None
    status: TransferStatus = TransferStatus.DISPATCHED
    eta_minutes: int | None = None
    transfer_urn: Urn | None = None


@attrs.frozen
class VoucherMealDrop:
    """One scheduled load of the meal card, on the airport's clock."""

    label: str
    at: LocalTime
    amount: Money
    loaded: bool


@attrs.frozen
class VoucherMeals:
    """The meal allowance block: per passenger and day, the drops and the card reveal."""

    card_urn: Urn
    per_day: Money | None
    passengers: int
    total: Money
    drops: tuple[VoucherMealDrop, ...]
    reveal_link: str | None = None


@attrs.frozen
class VoucherContent:
    """Everything a voucher says, in display order; no sensitive ids, never a PAN."""

    reservation_urn: Urn
    airline_urn: Urn
    confirmation_code: str
    hotel: HotelInfo
    check_in: LocalTime
    check_out: LocalTime
    nights: int
    rooms: tuple[VoucherRoom, ...]
    passengers: tuple[str, ...]
    total: Money
    payment: PaymentMode
    card_reference: str | None
    special_instructions: tuple[str, ...]
    flight: VoucherFlight | None
    transport: tuple[VoucherTransport, ...]
    pnr: str
    next_departure: LocalTime | None = None
    meals: VoucherMeals | None = None
    passenger_link: str | None = None

    @property
    def qr_payload(self) -> str:
        """What the QR code encodes: the reservation URN (front-desk verification)."""
        return str(without_status(self.reservation_urn))

    @property
    def airline_code(self) -> str:
        """The tenant's code (templates are keyed by it)."""
        return self.airline_urn.id


def special_instructions(group: PassengerGroup) -> tuple[str, ...]:
    """Instruction keys for the group's special needs (stable order, no duplicates)."""
    keys: list[str] = []
    for p in group.passengers:
        for need in sorted(p.special_needs):
            for key in SPECIAL_INSTRUCTIONS.get(need, ()):
                if key not in keys:
                    keys.append(key)
    return tuple(keys)


def _stay_times(
    reservation: Reservation, stay: StayPlan | None, tz: str
) -> tuple[LocalTime, LocalTime]:
    if stay is not None:
        return local_time(stay.check_in, tz), local_time(stay.check_out, tz)
    zone = _zone(tz)

    def at(d: date, t: time) -> LocalTime:
        return LocalTime(datetime.combine(d, t, tzinfo=zone), tz)

    return at(reservation.check_in, DEFAULT_CHECK_IN), at(reservation.check_out, DEFAULT_CHECK_OUT)


def card_reference_for(reservation: Reservation) -> str | None:
    """What a CARD-paid voucher prints as the card reference: the PSP token the booking
    used, else the booking's confirmation code (never a card number); None otherwise."""
    if reservation.payment is not PaymentMode.CARD:
        return None
    if reservation.payment_reference:
        return reservation.payment_reference
    return (reservation.confirmation_urn or reservation.urn).id


def _meals(card: IssuedCard | None, tz: str, reveal_link: str | None) -> VoucherMeals | None:
    if card is None or card.status is CardStatus.CANCELLED:
        return None
    drops = tuple(
        VoucherMealDrop(d.label, local_time(d.due_at, tz), d.amount, d.loaded_at is not None)
        for d in sorted(card.drops, key=lambda d: d.due_at)
    )
    return VoucherMeals(
        without_status(card.urn), card.per_day, card.passengers, card.planned, drops, reveal_link
    )


def build_voucher(
    reservation: Reservation,
    sub_case: SubCase,
    hotel: HotelInfo | None = None,
    *,
    timezone: str | None = None,
    flight: Flight | None = None,
    transfers: Sequence[Transfer] = (),
    card_reference: str | None = None,
    card: IssuedCard | None = None,
    passenger_link: str | None = None,
    card_reveal_link: str | None = None,
) -> VoucherContent:
    """The voucher of a CONFIRMED reservation.

    ``hotel`` defaults to the facts the reservation keeps; ``timezone`` (IANA) to the stay
    plan's (the airport's). ``card_reference`` is what the voucher prints when the hotel is
    paid by card (a PSP reference, never a PAN). ``card`` is the group's meal card (its
    drops become the meal block); cancelled and failed rides are left out.
    Raises :class:`ConflictError` before confirmation and :class:`InvalidInputError`
    when the pieces do not belong together.
    """
    if hotel is None:
        hotel = HotelInfo.from_reservation(reservation)
    if timezone is None:
        timezone = sub_case.stay_plan.timezone if sub_case.stay_plan is not None else "UTC"
    if reservation.status is not ReservationStatus.CONFIRMED:
        raise ConflictError(
            f"no voucher for {reservation.urn}: reservation is {reservation.status.value}, "
            "not CONFIRMED",
            urn=str(reservation.urn),
            status=reservation.status.value,
        )
    if without_status(reservation.sub_case_urn) != without_status(sub_case.urn):
        raise InvalidInputError(
            f"{reservation.urn} belongs to {reservation.sub_case_urn}, not {sub_case.urn}",
            field="sub_case",
        )
    if without_status(reservation.hotel_urn) != without_status(hotel.hotel_urn):
        raise InvalidInputError(
            f"hotel data is for {hotel.hotel_urn}, the reservation is at {reservation.hotel_urn}",
            field="hotel",
        )
    if reservation.payment is PaymentMode.CARD and not card_reference:
        raise InvalidInputError(
            "a CARD-paid reservation needs the card reference for the voucher",
            field="card_reference",
        )
    check_in, check_out = _stay_times(reservation, sub_case.stay_plan, timezone)
    counts = Counter(reservation.rooms)
    rooms = tuple(VoucherRoom(t, counts[t]) for t in RoomType if counts[t])
    confirmation = reservation.confirmation_urn or reservation.urn
    voucher_flight = (
        VoucherFlight(
            flight.number,
            local_time(flight.scheduled_departure, timezone),
            flight.origin.id,
            flight.destination.id,
        )
        if flight is not None
        else None
    )
    mine = without_status(sub_case.urn)
    transport = tuple(
        VoucherTransport(
            t.direction,
            t.vehicle,
            local_time(t.pickup_at, timezone),
            t.vendor,
            t.status,
            t.eta_minutes,
            without_status(t.urn),
        )
        for t in sorted(transfers, key=lambda t: t.pickup_at)
        if mine in {without_status(u) for u in t.sub_case_urns}
        and t.status not in (TransferStatus.CANCELLED, TransferStatus.FAILED)
    )
    return VoucherContent(
        reservation_urn=without_status(reservation.urn),
        airline_urn=reservation.airline_urn,
        confirmation_code=confirmation.id,
        hotel=hotel,
        check_in=check_in,
        check_out=check_out,
        nights=(reservation.check_out - reservation.check_in).days,
        rooms=rooms,
        passengers=tuple(p.contact.name or p.urn.id for p in sub_case.group.passengers),
        total=reservation.total,
        payment=reservation.payment,
        card_reference=card_reference if reservation.payment is PaymentMode.CARD else None,
        special_instructions=special_instructions(sub_case.group),
        flight=voucher_flight,
        transport=transport,
        pnr=sub_case.group.pnr_urn.id,
        next_departure=local_time(sub_case.next_departure, timezone)
        if sub_case.next_departure is not None and voucher_flight is None
        else None,
        meals=_meals(card, timezone, card_reveal_link),
        passenger_link=passenger_link,
    )
