"""Golden voucher rendering in three languages (HTML and text), QR decoding and DST offsets.

Regenerate the golden files after an intended template change with
``NEXA_UPDATE_GOLDEN=1 pytest tests/golden``.
"""

from __future__ import annotations

import base64
import os
import re
from datetime import UTC, date, datetime
from pathlib import Path

import attrs
import png
import pytest
import zxingcpp

from nexa_adapters.render import JinjaRenderer
from nexa_core.care import HotelInfo, VoucherContent, build_voucher
from nexa_core.model import (
    CardDrop,
    Contact,
    Flight,
    IssuedCard,
    Money,
    PassengerGroup,
    PassengerRef,
    PassengerType,
    PaymentMode,
    Reservation,
    ReservationStatus,
    RoomType,
    SpecialNeed,
    StayPlan,
    SubCase,
    SubCaseStatus,
    Tier,
    Transfer,
    TransferDirection,
    TransferStatus,
    Vehicle,
)
from nexa_core.urn import Urn

GOLDEN = Path(__file__).parent / "data"
LANGUAGES = ("en", "es", "pt")
TZ = "America/Santiago"  # leaves DST (UTC-03:00 → UTC-04:00) at 2026-04-05 00:00 local

AIRLINE = Urn("airline", "LAN")
HOTEL = HotelInfo(
    Urn("hotel", "SCL0042", "sandbox"),
    "Hotel Andes Aeropuerto",
    "Av. Américo Vespucio 1234, Pudahuel, Santiago",
    "+56221234567",
    -33.40,
    -70.79,
)


def _sub_case() -> SubCase:
    people = (
        PassengerRef(
            Urn("passenger", "p-1", "latam"),
            Contact("ana@example.com", "+56911112222", "es", "Ana María Rojas"),
            Tier.ECONOMY,
            special_needs=frozenset({SpecialNeed.WCHR}),
        ),
        PassengerRef(
            Urn("passenger", "p-2", "latam"),
            Contact("ana@example.com", None, "es", "Tomás Rojas"),
            Tier.ECONOMY,
            PassengerType.CHD,
        ),
    )
    return SubCase(
        Urn("sub-case", "sc-7"),
        Urn("case", "c-1"),
        AIRLINE,
        PassengerGroup("G7", Urn("pnr", "QWE987", "amadeus"), people),
        status=SubCaseStatus.OFFER_READY,
        stay_plan=StayPlan(
            datetime(2026, 4, 4, 23, 0, tzinfo=UTC),  # 20:00 local, UTC-03:00
            datetime(2026, 4, 5, 15, 0, tzinfo=UTC),  # 11:00 local, UTC-04:00
            1,
            TZ,
        ),
    )


def _reservation(**changes: object) -> Reservation:
    r = Reservation(
        Urn("reservation", "r-000042"),
        AIRLINE,
        Urn("case", "c-1"),
        Urn("sub-case", "sc-7"),
        Urn("offer", "of-9"),
        HOTEL.hotel_urn,
        HOTEL.name,
        date(2026, 4, 4),
        date(2026, 4, 5),
        (RoomType.DBL, RoomType.SGL),
        Money("184.00", "USD"),
        status=ReservationStatus.CONFIRMED,
        confirmation_urn=Urn("reservation", "SBX-7F3K2Q", "sandbox", "confirmed"),
    )
    return attrs.evolve(r, **changes)


def _voucher(**changes: object) -> VoucherContent:
    transfer = Transfer(
        Urn("transfer", "t-9"),
        AIRLINE,
        Urn("case", "c-1"),
        (Urn("sub-case", "sc-7"),),
        TransferDirection.HOTEL_TO_AIRPORT,
        Vehicle.SHUTTLE,
        datetime(2026, 4, 5, 16, 15, tzinfo=UTC),
        2,
        TransferStatus.DISPATCHED,
        vendor="sandbox",
        eta_minutes=12,
    )
    card = IssuedCard(
        Urn("issued-card", "ic-77"),
        AIRLINE,
        Urn("case", "c-1"),
        "G7",
        Urn("passenger", "p-1", "latam"),
        "USD",
        Money("20.00", "USD"),
        Money("0", "USD"),
        per_day=Money("30.00", "USD"),
        passengers=2,
        drops=(
            CardDrop(
                "dinner",
                datetime(2026, 4, 4, 23, 0, tzinfo=UTC),
                Money("20.00", "USD"),
                "card-load:a",
                datetime(2026, 4, 4, 23, 0, tzinfo=UTC),
            ),
            CardDrop(
                "breakfast",
                datetime(2026, 4, 5, 11, 0, tzinfo=UTC),
                Money("20.00", "USD"),
                "card-load:b",
            ),
        ),
    )
    flight = Flight(
        Urn("flight", "LA501@20260405"),
        Urn("airport", "SCL"),
        Urn("airport", "EZE"),
        datetime(2026, 4, 5, 18, 0, tzinfo=UTC),
    )
    return build_voucher(
        _reservation(**changes),
        _sub_case(),
        HOTEL,
        timezone=TZ,
        flight=flight,
        transfers=(transfer,),
        card_reference="urn:issued-card:ic-77" if changes.get("payment") else None,
        card=card,
        passenger_link="https://pax.example/LAN/urn:sub-case:sc-7",
        card_reveal_link="https://wallet.example/reveal/urn:issued-card:ic-77",
    )


@pytest.fixture(scope="module")
def renderer() -> JinjaRenderer:
    return JinjaRenderer()


def _check_golden(name: str, actual: str) -> None:
    path = GOLDEN / name
    if os.environ.get("NEXA_UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
    assert path.exists(), f"golden file {name} missing (run with NEXA_UPDATE_GOLDEN=1)"
    assert actual == path.read_text(encoding="utf-8"), f"{name} differs from the golden file"


@pytest.mark.parametrize("language", LANGUAGES)
def test_voucher_html_matches_golden(renderer: JinjaRenderer, language: str) -> None:
    rendered = renderer.render_voucher(_voucher(), language)
    assert rendered.html is not None
    _check_golden(f"voucher.{language}.html", rendered.html)


@pytest.mark.parametrize("language", LANGUAGES)
def test_voucher_text_matches_golden(renderer: JinjaRenderer, language: str) -> None:
    rendered = renderer.render_voucher(_voucher(), language)
    _check_golden(f"voucher.{language}.txt", rendered.text)


def _decode_png(data: bytes) -> list[str]:
    width, height, rows, _ = png.Reader(bytes=data).asDirect()
    pixels = bytes(0 if px == 0 else 255 for row in rows for px in row)
    image = memoryview(pixels).cast("B", (height, width))
    return [r.text for r in zxingcpp.read_barcodes(image)]


@pytest.mark.parametrize("language", LANGUAGES)
def test_voucher_qr_in_html_decodes_to_the_reservation_urn(
    renderer: JinjaRenderer, language: str
) -> None:
    html = renderer.render_voucher(_voucher(), language).html
    assert html is not None
    match = re.search(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html)
    assert match, "the voucher HTML embeds the QR as a PNG data URI"
    assert _decode_png(base64.b64decode(match.group(1))) == ["urn:reservation:r-000042"]


def test_voucher_qr_attachment_decodes_to_the_reservation_urn(renderer: JinjaRenderer) -> None:
    rendered = renderer.render_voucher(_voucher(), "en")
    (name, mime, data), *_ = rendered.attachments
    assert (name, mime) == ("voucher-qr.png", "image/png")
    assert _decode_png(data) == [str(Urn("reservation", "r-000042"))]


def test_voucher_times_carry_the_offset_valid_on_each_side_of_the_dst_change(
    renderer: JinjaRenderer,
) -> None:
    voucher = _voucher()
    assert voucher.check_in.utc_offset == "-03:00"
    assert voucher.check_out.utc_offset == "-04:00"
    text = renderer.render_voucher(voucher, "en").text
    assert "Check-in: Saturday, April 4, 2026, 8:00\u202fPM (UTC-03:00, America/Santiago)" in text
    assert "Check-out: Sunday, April 5, 2026, 11:00\u202fAM (UTC-04:00, America/Santiago)" in text


def test_card_paid_voucher_shows_the_card_reference_not_the_guarantee(
    renderer: JinjaRenderer,
) -> None:
    text = renderer.render_voucher(_voucher(payment=PaymentMode.CARD), "es").text
    assert "referencia urn:issued-card:ic-77" in text
    assert "garantiza" not in text


def test_voucher_shows_the_meal_drops_the_rides_and_the_passenger_page(
    renderer: JinjaRenderer,
) -> None:
    text = renderer.render_voucher(_voucher(), "en").text
    assert "Meal allowance: $30.00 per person per day, 2 people" in text
    assert "- Dinner: $20.00, Saturday, April 4, 2026, 8:00\u202fPM (UTC-03:00" in text
    assert "(loaded)" in text and "(scheduled)" in text
    assert "booked, driver ETA 12 min" in text
    assert "https://pax.example/LAN/urn:sub-case:sc-7" in text
    es = renderer.render_voucher(_voucher(), "es").text
    assert "Asignación para comidas: 30,00" in es


def test_html_voucher_escapes_hotel_data(renderer: JinjaRenderer) -> None:
    voucher = attrs.evolve(_voucher(), hotel=attrs.evolve(HOTEL, name="<script>x</script>"))
    html = renderer.render_voucher(voucher, "en").html
    assert html is not None
    assert "<script>x</script>" not in html
    assert "&lt;script&gt;x&lt;/script&gt;" in html
