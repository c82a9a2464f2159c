"""Notification rules and voucher delivery: languages, channels, fallbacks, receipts."""

from __future__ import annotations

import base64
from typing import Any

import attrs
import png
import pytest
import zxingcpp

from nexa_adapters.sandbox import FaultInjector
from nexa_core.care import (
    FALLBACK,
    TRIGGERS,
    NotificationType,
    build_voucher,
    choose_language,
    dedup_key,
    deliver_voucher,
    fallback_key,
    handle_delivery_receipt,
    plan_group_messages,
    resend_notification,
    resolve_channels,
)
from nexa_core.errors import InvalidInputError, RenderError, TransientProviderError
from nexa_core.idempotency import idempotency_key
from nexa_core.model import Channel, NotificationStatus, ReviewCategory
from nexa_core.ports import AuditQuery
from nexa_core.urn import Urn
from tests.care.world import TENANT, World, build_world, group, pax

N = NotificationType


def test_triggers_use_the_default_channels_of_the_facts_file() -> None:
    assert TRIGGERS[N.DISRUPTION_DETECTED].channels == (
        Channel.SMS,
        Channel.WHATSAPP,
        Channel.EMAIL,
    )
    assert TRIGGERS[N.OFFER_READY].channels == (Channel.SMS, Channel.WHATSAPP, Channel.EMAIL)
    # the voucher goes by email (HTML, text, QR PNG) and by SMS (short, with the page link)
    assert TRIGGERS[N.VOUCHER_ISSUED].channels == (Channel.EMAIL, Channel.SMS)
    assert FALLBACK[Channel.EMAIL] == (Channel.SMS,)
    assert TRIGGERS[N.CARD_ISSUED].channels == (Channel.SMS, Channel.EMAIL, Channel.PUSH)
    assert TRIGGERS[N.CARD_LOADED].channels == (Channel.PUSH,)
    assert TRIGGERS[N.TRANSPORT_DISPATCHED].channels == (Channel.SMS, Channel.PUSH)
    assert TRIGGERS[N.SUBCASE_FAILED].channels == (Channel.EMAIL,)


@pytest.mark.parametrize(
    ("preference", "airport", "expected"),
    [
        ("pt-BR", "es", "pt"),  # passenger preference first (primary subtag)
        ("fr", "es", "es"),  # unsupported preference → airport default
        ("fr", "de", "en"),  # neither supported → English
        (None, None, "en"),
    ],
)
def test_language_is_preference_then_airport_default_then_english(
    preference: str | None, airport: str | None, expected: str
) -> None:
    assert choose_language(preference, airport, {"en", "es", "pt"}) == expected


def test_channels_fall_back_for_recipients_without_a_smartphone_or_phone() -> None:
    wanted = (Channel.SMS, Channel.WHATSAPP, Channel.EMAIL)
    assert resolve_channels(wanted, frozenset({Channel.EMAIL})) == (Channel.EMAIL,)
    no_smartphone = frozenset({Channel.SMS, Channel.EMAIL})
    assert resolve_channels((Channel.WHATSAPP,), no_smartphone) == (Channel.SMS,)
    assert resolve_channels((Channel.PUSH,), frozenset({Channel.EMAIL})) == (Channel.EMAIL,)
    assert resolve_channels(wanted, no_smartphone) == (Channel.SMS, Channel.EMAIL)


def test_a_passenger_without_a_phone_gets_email_only() -> None:
    g = group("G1", "ABC123", pax("p-1", "Ana"))
    planned = plan_group_messages(
        N.DISRUPTION_DETECTED, g, airport_language="es", supported_languages={"en", "es"}
    )
    assert [m.channel for m in planned] == [Channel.EMAIL]
    assert planned[0].language == "en"  # the passenger's stated preference


def test_declared_capabilities_drive_whatsapp_to_sms_fallback() -> None:
    lead = pax("p-1", "Ana", phone="+5511987654321")
    g = group("G1", "ABC123", lead)
    planned = plan_group_messages(
        N.OFFER_READY,
        g,
        airport_language=None,
        supported_languages={"en"},
        capabilities={lead.urn: frozenset({Channel.SMS})},  # feature phone: no WhatsApp
        reservation_urn=Urn("reservation", "r-1"),
    )
    assert [m.channel for m in planned] == [Channel.SMS]


def test_dedup_key_is_the_notification_idempotency_key() -> None:
    r = Urn("reservation", "r-1")
    key = dedup_key("G1", N.VOUCHER_ISSUED, Channel.EMAIL, r)
    assert key == idempotency_key(
        "notification", "G1", "voucher.issued", "EMAIL", "urn:reservation:r-1"
    )
    assert key != dedup_key("G1", N.VOUCHER_ISSUED, Channel.SMS, r)
    assert key != dedup_key("G2", N.VOUCHER_ISSUED, Channel.EMAIL, r)


def test_operator_triggers_are_not_planned_per_group() -> None:
    with pytest.raises(InvalidInputError):
        plan_group_messages(
            N.SUBCASE_FAILED,
            group("G1", "ABC123", pax("p-1", "Ana")),
            airport_language=None,
            supported_languages={"en"},
        )


def decode_png(data: bytes) -> list[str]:
    width, height, rows, _ = png.Reader(bytes=data).asDirect()
    pixels = bytes(0 if px == 0 else 255 for row in rows for px in row)
    return [r.text for r in zxingcpp.read_barcodes(memoryview(pixels).cast("B", (height, width)))]


def _voucher(w: World, gid: str) -> Any:
    return build_voucher(
        w.reservations[gid],
        w.subs[gid],
        passenger_link=w.deps.links.passenger(TENANT.airline_urn, w.subs[gid].urn),
    )


async def _deliver(w: World, gid: str, **kw: Any) -> Any:
    care = w.care(gid)
    return await deliver_voucher(
        w.deps,
        TENANT,
        w.subs[gid],
        _voucher(w, gid),
        channels=care.channels,
        airport_language=care.language,
        **kw,
    )


def _sent(w: World, key: str) -> Any:
    return w.messages.sent[key]


@pytest.mark.anyio
async def test_the_voucher_goes_once_per_channel_in_the_contacts_language() -> None:
    w = await build_world()
    g1 = await _deliver(w, "G1")  # pt-BR lead with a phone
    assert sorted((n.channel.value, n.language) for n in g1.notifications) == [
        ("EMAIL", "pt"),
        ("SMS", "pt"),
    ]
    assert g1.delivered == ("EMAIL", "SMS") and not g1.reviews
    g2 = await _deliver(w, "G2")  # Spanish contact, no phone: email only, in Spanish
    assert [(n.channel.value, n.language) for n in g2.notifications] == [("EMAIL", "es")]
    email = _sent(w, g2.notifications[0].dedup_key)
    assert email.subject.startswith("Su bono de hotel")
    g4 = await _deliver(w, "G4")  # no preference: the airport's default language
    assert {n.language for n in g4.notifications} == {"es"}
    before = dict(w.messages.sent)
    again = await _deliver(w, "G1")
    assert w.messages.sent == before  # a re-run sends nothing
    assert {n.status for n in again.notifications} == {NotificationStatus.SENT}
    assert {n.attempts for n in again.notifications} == {1}


@pytest.mark.anyio
async def test_an_unknown_language_falls_to_the_airport_default_then_english() -> None:
    w = await build_world()
    sub = w.subs["G2"]
    lead = attrs.evolve(sub.group.lead, contact=attrs.evolve(sub.group.lead.contact, language="fr"))
    w.subs["G2"] = attrs.evolve(sub, group=attrs.evolve(sub.group, passengers=(lead,)))
    report = await _deliver(w, "G2")
    assert [n.language for n in report.notifications] == ["es"]
    report = await deliver_voucher(w.deps, TENANT, w.subs["G3"], _voucher(w, "G3"))
    assert {n.language for n in report.notifications} == {"en"}  # the contact's own


@pytest.mark.anyio
async def test_the_email_carries_the_html_voucher_and_the_qr_the_sms_the_link() -> None:
    w = await build_world()
    report = await _deliver(w, "G1")
    email = next(n for n in report.notifications if n.channel is Channel.EMAIL)
    sms = next(n for n in report.notifications if n.channel is Channel.SMS)
    msg = _sent(w, email.dedup_key)
    assert msg.html is not None and "Av. Américo Vespucio 1234" in msg.html
    assert "(UTC-04:00, America/Santiago)" in msg.html
    (name, mime, data), *_ = msg.attachments
    assert (name, mime) == ("voucher-qr.png", "image/png")
    assert decode_png(data) == [str(w.reservations["G1"].urn)]
    inline = msg.html.split('src="data:image/png;base64,', 1)[1].split('"', 1)[0]
    assert decode_png(base64.b64decode(inline)) == [str(w.reservations["G1"].urn)]
    text = _sent(w, sms.dedup_key).text
    assert "Av. Américo Vespucio 1234" in text and "https://pax.example/LAN/" in text
    assert _sent(w, sms.dedup_key).html is None and not _sent(w, sms.dedup_key).attachments
    assert email.dedup_key == dedup_key(
        "G1", N.VOUCHER_ISSUED, Channel.EMAIL, w.reservations["G1"].urn
    )


@pytest.mark.anyio
async def test_a_refused_email_goes_out_once_by_sms_with_the_whole_voucher() -> None:
    w = await build_world()
    key = dedup_key("G1", N.VOUCHER_ISSUED, Channel.EMAIL, w.reservations["G1"].urn)
    w.messages.faults.fail_keys.add(key)
    report = await _deliver(w, "G1")
    by_key = {n.dedup_key: n for n in report.notifications}
    assert by_key[key].status is NotificationStatus.FAILED and by_key[key].last_error
    fallback = by_key[fallback_key(key, Channel.SMS)]
    assert fallback.status is NotificationStatus.SENT and fallback.fallback_for == by_key[key].urn
    assert "Av. Américo Vespucio 1234" in _sent(w, fallback.dedup_key).text
    assert "Código de confirmação: SBX-0001" in _sent(w, fallback.dedup_key).text
    attempts = w.messages.attempts
    await _deliver(w, "G1")
    assert w.messages.attempts == attempts  # a re-run sends nothing, the fallback included
    assert len(await w.store.notifications.find(TENANT, group_id="G1")) == 3
    audit = await w.store.audit.query(TENANT, AuditQuery(action="notification.failed"))
    assert len(audit) == 1 and "@" not in str(audit[0].after)  # never an address


@pytest.mark.anyio
async def test_a_transient_failure_is_recorded_and_retried_then_falls_back_on_the_last_try() -> (
    None
):
    w = await build_world(message_faults=FaultInjector(transient_rate=1.0))
    with pytest.raises(TransientProviderError):
        await _deliver(w, "G1", final_attempt=False)
    queued = await w.store.notifications.find(TENANT, group_id="G1")
    assert {(n.status, n.attempts) for n in queued} == {(NotificationStatus.QUEUED, 1)}
    report = await _deliver(w, "G1", final_attempt=True)
    assert {n.status for n in report.notifications} == {NotificationStatus.FAILED}
    assert {n.attempts for n in report.notifications if n.fallback_for is None} == {2}
    [review] = report.reviews  # nothing reached the group: an operator steps in
    assert review.category is ReviewCategory.NOTIFICATION and review.affected_groups == ("G1",)


@pytest.mark.anyio
async def test_no_deliverable_channel_raises_a_notification_review_and_sends_nothing() -> None:
    w = await build_world()
    w.messages.channels = frozenset({Channel.PUSH})  # no provider for email or SMS
    report = await _deliver(w, "G2")
    assert report.notifications == () and w.messages.sent == {}
    [review] = report.reviews
    assert review.category is ReviewCategory.NOTIFICATION
    assert (await _deliver(w, "G2")).reviews[0].urn == review.urn  # one item, not two


class _BrokenTemplates:
    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def render_voucher(self, voucher: Any, language: str) -> Any:
        raise RenderError("voucher template failed: 'x' is undefined")


@pytest.mark.anyio
async def test_a_template_error_is_retried_then_becomes_a_review_item() -> None:
    w = await build_world()
    w.deps = attrs.evolve(w.deps, renderer=_BrokenTemplates(w.deps.renderer))
    with pytest.raises(TransientProviderError):
        await _deliver(w, "G2", final_attempt=False)
    report = await _deliver(w, "G2", final_attempt=True)
    assert [n.status for n in report.notifications] == [NotificationStatus.FAILED]
    assert "template" in (report.notifications[0].last_error or "")
    assert report.reviews[0].category is ReviewCategory.NOTIFICATION


@pytest.mark.anyio
async def test_a_bounce_receipt_sends_the_sms_fallback_once() -> None:
    w = await build_world()
    report = await _deliver(w, "G1")
    email = next(n for n in report.notifications if n.channel is Channel.EMAIL)
    first = await handle_delivery_receipt(
        w.deps,
        TENANT,
        email.dedup_key,
        NotificationStatus.BOUNCED,
        event_urn=Urn("event", "e-b1"),
        reason="mailbox full",
    )
    assert first.changed and first.notification.status is NotificationStatus.BOUNCED
    assert first.fallback is not None and first.fallback.channel is Channel.SMS
    assert first.fallback.status is NotificationStatus.SENT
    assert first.fallback.dedup_key == fallback_key(email.dedup_key, Channel.SMS)
    sent = len(w.messages.sent)
    replay = await handle_delivery_receipt(
        w.deps, TENANT, email.dedup_key, NotificationStatus.BOUNCED, event_urn=Urn("event", "e-b1")
    )
    other = await handle_delivery_receipt(
        w.deps, TENANT, email.dedup_key, NotificationStatus.FAILED, event_urn=Urn("event", "e-b2")
    )
    assert not replay.changed and replay.fallback is None
    assert other.fallback is None  # the fallback was made once
    assert len(w.messages.sent) == sent


@pytest.mark.anyio
async def test_a_delivered_receipt_marks_the_message_delivered_and_bad_receipts_are_refused() -> (
    None
):
    w = await build_world()
    report = await _deliver(w, "G2")
    key = report.notifications[0].dedup_key
    out = await handle_delivery_receipt(
        w.deps, TENANT, key, NotificationStatus.DELIVERED, event_urn=Urn("event", "e-d1")
    )
    assert out.notification.status is NotificationStatus.DELIVERED and out.fallback is None
    with pytest.raises(InvalidInputError):
        await handle_delivery_receipt(
            w.deps, TENANT, key, NotificationStatus.SENT, event_urn=Urn("event", "e-d2")
        )
    from nexa_core.errors import NotFoundError

    with pytest.raises(NotFoundError):
        await handle_delivery_receipt(
            w.deps,
            TENANT,
            "notification:unknown",
            NotificationStatus.BOUNCED,
            event_urn=Urn("event", "e-d3"),
        )


@pytest.mark.anyio
async def test_an_explicit_resend_is_a_new_action_with_a_new_key() -> None:
    w = await build_world()
    report = await _deliver(w, "G2")
    original = report.notifications[0]
    first = await resend_notification(w.deps, TENANT, original.urn, action_seq=1)
    assert first.dedup_key != original.dedup_key and first.status is NotificationStatus.SENT
    sent = len(w.messages.sent)
    again = await resend_notification(w.deps, TENANT, original.urn, action_seq=1)
    assert again.urn == first.urn and len(w.messages.sent) == sent  # same action: once
    second = await resend_notification(w.deps, TENANT, original.urn, action_seq=2)
    assert second.urn != first.urn and len(w.messages.sent) == sent + 1
