"""Voucher content rules (the domain side of the voucher)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import attrs
import pytest

from nexa_core.care import HotelInfo, build_voucher, local_time, special_instructions
from nexa_core.errors import ConflictError, InvalidInputError
from nexa_core.model import (
    Money,
    PaymentMode,
    Reservation,
    ReservationStatus,
    RoomType,
    SpecialNeed,
    StayPlan,
    SubCase,
)
from nexa_core.urn import Urn
from tests.care.world import AIRLINE, group, pax

HOTEL = HotelInfo(Urn("hotel", "MAD1", "sandbox"), "Hotel Barajas", "Calle 1, Madrid", None)


def _sub(stay: StayPlan | None = None) -> SubCase:
    g = group(
        "G1",
        "ZZZ111",
        pax("p-1", "Lucía García", needs=frozenset({SpecialNeed.WCHC, SpecialNeed.UMNR})),
        pax("p-2", "Mateo García", needs=frozenset({SpecialNeed.WCHR})),
    )
    return SubCase(Urn("sub-case", "sc-1"), Urn("case", "c-1"), AIRLINE, g, stay_plan=stay)


def _res(**kw: object) -> Reservation:
    r = Reservation(
        Urn("reservation", "r-1"),
        AIRLINE,
        Urn("case", "c-1"),
        Urn("sub-case", "sc-1"),
        Urn("offer", "of-1"),
        HOTEL.hotel_urn,
        HOTEL.name,
        date(2026, 3, 28),
        date(2026, 3, 29),
        (RoomType.TWN, RoomType.SGL, RoomType.TWN),
        Money(210, "EUR"),
        status=ReservationStatus.CONFIRMED,
        confirmation_urn=Urn("reservation", "HB-991", "hotelbeds", "confirmed"),
    )
    return attrs.evolve(r, **kw)


@pytest.mark.parametrize("status", [ReservationStatus.PENDING, ReservationStatus.CANCELLED])
def test_no_voucher_before_the_reservation_is_confirmed(status: ReservationStatus) -> None:
    with pytest.raises(ConflictError):
        build_voucher(_res(status=status), _sub(), HOTEL, timezone="Europe/Madrid")


def test_voucher_shows_hotel_default_times_in_the_airport_zone_across_dst() -> None:
    v = build_voucher(_res(), _sub(), HOTEL, timezone="Europe/Madrid")
    assert v.check_in.isoformat() == "2026-03-28T15:00:00+01:00"  # CET
    assert v.check_out.isoformat() == "2026-03-29T12:00:00+02:00"  # CEST after the change
    assert v.confirmation_code == "HB-991"
    assert v.qr_payload == "urn:reservation:r-1"
    assert [(r.room_type, r.count) for r in v.rooms] == [(RoomType.SGL, 1), (RoomType.TWN, 2)]
    assert v.passengers == ("Lucía García", "Mateo García")  # as on the manifest
    assert v.payment is PaymentMode.GUARANTEE and v.card_reference is None


def test_stay_plan_times_win_over_hotel_defaults() -> None:
    stay = StayPlan(
        datetime(2026, 3, 28, 22, 30, tzinfo=UTC),
        datetime(2026, 3, 29, 9, 0, tzinfo=UTC),
        1,
        "Europe/Madrid",
    )
    v = build_voucher(_res(), _sub(stay), HOTEL, timezone="Europe/Madrid")
    assert (v.check_in.utc_offset, v.check_out.utc_offset) == ("+01:00", "+02:00")
    assert v.check_out.at.hour == 11


def test_special_needs_become_deduplicated_instructions() -> None:
    assert special_instructions(_sub().group) == (
        "unaccompanied-minor",
        "accessible-room",
        "wheelchair-assistance",
        "ground-floor",
    )


def test_card_payment_needs_a_card_reference_and_shows_it() -> None:
    with pytest.raises(InvalidInputError):
        build_voucher(_res(payment=PaymentMode.CARD), _sub(), HOTEL, timezone="Europe/Madrid")
    v = build_voucher(
        _res(payment=PaymentMode.CARD),
        _sub(),
        HOTEL,
        timezone="Europe/Madrid",
        card_reference="vcard_77",
    )
    assert v.card_reference == "vcard_77"


def test_pieces_that_do_not_belong_together_are_refused() -> None:
    other_hotel = attrs.evolve(HOTEL, hotel_urn=Urn("hotel", "MAD2", "sandbox"))
    with pytest.raises(InvalidInputError):
        build_voucher(_res(), _sub(), other_hotel, timezone="Europe/Madrid")
    with pytest.raises(InvalidInputError):
        build_voucher(
            _res(sub_case_urn=Urn("sub-case", "sc-9")), _sub(), HOTEL, timezone="Europe/Madrid"
        )
    with pytest.raises(InvalidInputError):
        build_voucher(_res(), _sub(), HOTEL, timezone="Mars/Olympus")
    with pytest.raises(InvalidInputError):
        local_time(datetime(2026, 1, 1), "UTC")
