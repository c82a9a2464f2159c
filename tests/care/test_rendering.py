"""Notification templates: every trigger in every shipped language; airline overrides."""

from __future__ import annotations

from datetime import UTC, datetime

import jinja2
import pytest

from nexa_adapters.render import JinjaRenderer, format_local, format_money
from nexa_adapters.sandbox import airport
from nexa_core.care import NotificationType
from nexa_core.errors import ConfigurationError
from nexa_core.model import Flight, Money, Transfer, TransferDirection, Vehicle
from nexa_core.urn import Urn

FLIGHT = Flight(
    Urn("flight", "LA500@20260505"),
    Urn("airport", "SCL"),
    Urn("airport", "EZE"),
    datetime(2026, 5, 5, 18, 0, tzinfo=UTC),
)
DATA = {
    "recipient_name": "Ana",
    "airline_code": "LAN",
    "airport": airport("SCL"),
    "disrupted_flight": FLIGHT,
    "next_departure": datetime(2026, 5, 6, 14, 0, tzinfo=UTC),
    "timezone": "America/Santiago",
    "sub_case_urn": "urn:sub-case:sc-1",
    "group_id": "G1",
    "pnr": "ABC123",
    "passenger_link": "https://pax.example/s/urn:sub-case:sc-1",
    "voucher": None,
    "card_urn": "urn:issued-card:ic-1",
    "reveal_link": "https://wallet.example/reveal/urn:issued-card:ic-1",
    "loaded": Money(0, "USD"),
    "amount": Money(20, "USD"),
    "meal": "dinner",
    "transfer": Transfer(
        Urn("transfer", "t-1"),
        Urn("airline", "LAN"),
        Urn("case", "c-1"),
        (Urn("sub-case", "sc-1"),),
        TransferDirection.HOTEL_TO_AIRPORT,
        Vehicle.SHUTTLE,
        datetime(2026, 5, 6, 13, 15, tzinfo=UTC),
        3,
    ),
    "status": "FAILED",
}


@pytest.mark.parametrize("language", ["en", "es", "pt"])
@pytest.mark.parametrize(
    "type", [t for t in NotificationType if t is not NotificationType.VOUCHER_ISSUED]
)
def test_every_trigger_renders_in_every_shipped_language(
    type: NotificationType, language: str
) -> None:
    message = JinjaRenderer().render_notification(type, language, "LAN", DATA)
    assert message.subject and "{" not in message.subject
    assert message.text.strip() and message.html is not None
    assert "Ana" in message.text


def test_times_in_messages_are_local_with_the_offset() -> None:
    text = (
        JinjaRenderer()
        .render_notification(NotificationType.TRANSPORT_DISPATCHED, "es", "LAN", DATA)
        .text
    )
    assert "6 de mayo de 2026, 9:15 (UTC-04:00, America/Santiago)" in text
    assert format_local(FLIGHT.scheduled_departure, "pt", "America/Sao_Paulo", part="time") == (
        "15:00 (UTC-03:00, America/Sao_Paulo)"
    )
    assert format_money(Money("1234.5", "BRL"), "pt") == "R$\xa01.234,50"


def test_an_airline_can_override_strings_and_falls_back_to_the_shared_set() -> None:
    base = jinja2.PackageLoader("nexa_adapters.render", "templates")
    shared_en = base.get_source(jinja2.Environment(), "_default/en/labels.j2")[0]
    custom = shared_en.replace("Your {{ code }} care team", "LATAM Airlines — Passenger Care")
    renderer = JinjaRenderer(loader=jinja2.DictLoader({"LAN/en/labels.j2": custom}))
    lan = renderer.render_notification(NotificationType.CARD_LOADED, "en", "LAN", DATA)
    other = renderer.render_notification(
        NotificationType.CARD_LOADED, "en", "AZU", {**DATA, "airline_code": "AZU"}
    )
    assert "LATAM Airlines — Passenger Care" in lan.text
    assert "Your AZU care team" in other.text
    assert renderer.languages("LAN") == frozenset({"en", "es", "pt"})


def test_a_language_without_templates_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError):
        JinjaRenderer().render_notification(NotificationType.CARD_LOADED, "fr", "LAN", DATA)


def test_every_voucher_qr_decodes_to_its_payload_and_bad_payloads_are_render_errors() -> None:
    import png
    import zxingcpp

    from nexa_core.errors import RenderError

    renderer = JinjaRenderer()

    def decode(data: bytes) -> list[str]:
        width, height, rows, _ = png.Reader(bytes=data).asDirect()
        pixels = bytes(0 if px == 0 else 255 for row in rows for px in row)
        image = memoryview(pixels).cast("B", (height, width))
        return [r.text for r in zxingcpp.read_barcodes(image)]

    payloads = [f"urn:reservation:r-{'abcdefghij'[i % 10] * (1 + i * 7)}" for i in range(12)]
    for payload in payloads:  # several QR versions, one fixed mask
        assert decode(renderer.qr_png(payload)) == [payload]
    for bad in ("", "x" * 1001):
        with pytest.raises(RenderError):
            renderer.qr_png(bad)
