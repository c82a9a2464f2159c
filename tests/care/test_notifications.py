"""Notification selection rules and the idempotent notification stage."""

from __future__ import annotations

import functools
from datetime import timedelta

import anyio
import attrs
import pytest

from nexa_adapters.sandbox import FaultInjector
from nexa_core.care import (
    TRIGGERS,
    NotificationType,
    choose_language,
    dedup_key,
    handle_delivery_receipt,
    issue_meal_cards,
    load_due_meals,
    plan_group_messages,
    resend_notification,
    resolve_channels,
    run_notification_stage,
)
from nexa_core.errors import InvalidInputError, ProviderRejectedError
from nexa_core.idempotency import idempotency_key
from nexa_core.model import Channel, NotificationStatus
from nexa_core.ports import AuditQuery, OutboundMessage, SendResult
from nexa_core.urn import Urn
from tests.care.world import TENANT, build_world, group, pax

N = NotificationType


def test_triggers_use_the_default_channels_of_the_facts_file() -> None:
    assert TRIGGERS[N.DISRUPTION_DETECTED].channels == (
        Channel.SMS,
        Channel.WHATSAPP,
        Channel.EMAIL,
    )
    assert TRIGGERS[N.OFFER_READY].channels == (Channel.SMS, Channel.WHATSAPP, Channel.EMAIL)
    assert TRIGGERS[N.VOUCHER_ISSUED].channels == (Channel.EMAIL,)
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


@pytest.mark.anyio
async def test_running_the_notification_stage_twice_sends_each_message_once() -> None:
    w = await build_world()
    first = await run_notification_stage(w.deps, TENANT, w.case_urn, context=w.context)
    sent = dict(w.messages.sent)
    attempts = w.messages.attempts
    assert first.sent == len(sent) > 0
    second = await run_notification_stage(w.deps, TENANT, w.case_urn, context=w.context)
    assert second.sent == 0
    assert second.skipped == first.sent
    assert w.messages.sent == sent
    assert w.messages.attempts == attempts  # the store's dedup stopped it before the provider
    records = await w.store.notifications.find(TENANT, case_urn=w.case_urn)
    assert len(records) == len(sent)
    assert {r.status for r in records} == {NotificationStatus.SENT}
    assert len({r.dedup_key for r in records}) == len(records)


@pytest.mark.anyio
async def test_stage_sends_what_each_sub_case_calls_for_in_the_chosen_language() -> None:
    w = await build_world()
    await run_notification_stage(w.deps, TENANT, w.case_urn, context=w.context)
    by_to = {}
    for m in w.messages.sent.values():
        by_to.setdefault(m.to, []).append(m)
    # G1 lead prefers pt-BR → Portuguese; offer ready + voucher by email
    subjects = {m.subject for m in by_to["p-1@example.com"]}
    assert "O seu voucher de hotel SBX-0001" in subjects
    assert "O seu hotel está pronto (ABC123)" in subjects
    # the child of G1 hears about the disruption too (all passengers)
    assert [m.subject for m in by_to["p-2@example.com"]] == ["Voo LA500: estamos cuidando de você"]
    # G2 is RESOLVED: no offer-ready, but its voucher in Spanish
    assert {m.subject for m in by_to["p-3@example.com"]} == {
        "Vuelo LA500: nos ocupamos de usted",
        "Su bono de hotel SBX-0002",
    }
    voucher = next(m for m in by_to["p-3@example.com"] if "bono" in m.subject)
    assert voucher.html is not None and "data:image/png;base64," in voucher.html
    assert "urn:reservation:r-2" in voucher.text
    # G4 FAILED → the operator is told, the passenger only about the disruption
    assert [m.subject for m in by_to["ops@example.com"]] == [
        "Action needed: booking JKL012 could not be completed"
    ]
    # SMS and WhatsApp go to the E.164 number of leads that have one
    assert {m.channel for m in by_to["+14155550123"]} == {Channel.SMS, Channel.WHATSAPP}


@pytest.mark.anyio
async def test_a_bounce_is_audited_and_never_resent() -> None:
    w = await build_world()
    bounce_key = dedup_key("G2", N.VOUCHER_ISSUED, Channel.EMAIL, Urn("reservation", "r-2"))
    w.messages.faults.fail_keys.add(bounce_key)
    report = await run_notification_stage(w.deps, TENANT, w.case_urn, context=w.context)
    assert report.count("bounced") == 1
    (record,) = await w.store.notifications.find(TENANT, dedup_key=bounce_key)
    assert record.status is NotificationStatus.BOUNCED
    audit = await w.store.audit.query(TENANT, AuditQuery(action="notification.bounced"))
    assert [a.entity_urn for a in audit] == [record.urn.base]
    assert "p-3@example.com" not in str(audit[0])  # no address in the audit trail
    again = await run_notification_stage(w.deps, TENANT, w.case_urn, context=w.context)
    assert again.sent == 0 and again.count("bounced") == 0


class _BouncingPush:
    """A push provider whose every message bounces."""

    name = "bouncing-push"
    channels = frozenset({Channel.PUSH})

    async def send(self, message: OutboundMessage) -> SendResult:
        raise ProviderRejectedError("no push subscription", vendor=self.name)


@pytest.mark.anyio
async def test_a_bounced_push_falls_back_to_sms_once() -> None:
    w = await build_world()
    lead = w.subs["G1"].group.lead
    context = attrs.evolve(
        w.context, capabilities={lead.urn: frozenset({Channel.PUSH, Channel.SMS})}
    )
    deps = attrs.evolve(w.deps, messages=(_BouncingPush(), w.messages))
    await issue_meal_cards(deps, TENANT, w.case_urn, context=context)
    w.clock.advance(timedelta(hours=4))  # dinner drop (19:00 local) is due
    await load_due_meals(deps, TENANT, w.case_urn, context=context)
    report = await run_notification_stage(deps, TENANT, w.case_urn, context=context)
    assert report.count("bounced") >= 1 and report.count("fallback") >= 1
    topped_up = [
        m
        for m in w.messages.sent.values()
        if m.subject == "O seu cartão de refeição foi recarregado"
    ]
    assert [(m.channel, m.to) for m in topped_up] == [(Channel.SMS, "+5511987654321")]
    bounced = await w.store.audit.query(TENANT, AuditQuery(action="notification.bounced"))
    assert bounced and all(b.after["channel"] == "PUSH" for b in bounced)
    sent = dict(w.messages.sent)
    again = await run_notification_stage(deps, TENANT, w.case_urn, context=context)
    assert again.sent == 0 and w.messages.sent == sent


@pytest.mark.anyio
async def test_transient_failures_stay_queued_and_go_out_on_the_next_run() -> None:
    w = await build_world(message_faults=FaultInjector(transient_rate=1.0))
    report = await run_notification_stage(w.deps, TENANT, w.case_urn, context=w.context)
    assert report.sent == 0 and report.count("failed") > 0
    queued = await w.store.notifications.find(TENANT, status=NotificationStatus.QUEUED)
    assert len(queued) == report.count("failed")
    w.messages.faults.transient_rate = 0.0
    w.messages.faults.__attrs_post_init__()
    retry = await run_notification_stage(w.deps, TENANT, w.case_urn, context=w.context)
    assert retry.sent == len(queued)
    assert len(await w.store.notifications.find(TENANT, case_urn=w.case_urn)) == len(queued)


@pytest.mark.anyio
async def test_an_explicit_resend_is_a_new_action_with_a_new_key() -> None:
    w = await build_world()
    await run_notification_stage(w.deps, TENANT, w.case_urn, context=w.context)
    key = dedup_key("G2", N.VOUCHER_ISSUED, Channel.EMAIL, Urn("reservation", "r-2"))
    (original,) = await w.store.notifications.find(TENANT, dedup_key=key)
    before = len(w.messages.sent)
    first = await resend_notification(w.deps, TENANT, original.urn, context=w.context, action_seq=1)
    assert first.status == "sent" and first.dedup_key != key
    assert len(w.messages.sent) == before + 1
    repeat = await resend_notification(
        w.deps, TENANT, original.urn, context=w.context, action_seq=1
    )
    assert repeat.status == "skipped"
    second = await resend_notification(
        w.deps, TENANT, original.urn, context=w.context, action_seq=2
    )
    assert second.status == "sent"
    assert len(w.messages.sent) == before + 2


@pytest.mark.anyio
async def test_concurrent_stage_runs_still_send_and_record_each_message_once() -> None:
    w = await build_world(message_faults=FaultInjector(latency_s=0.001))
    async with anyio.create_task_group() as tg:
        for _ in range(3):
            tg.start_soon(
                functools.partial(
                    run_notification_stage, w.deps, TENANT, w.case_urn, context=w.context
                )
            )
    records = await w.store.notifications.find(TENANT, case_urn=w.case_urn)
    keys = [r.dedup_key for r in records]
    assert len(keys) == len(set(keys)) == len(w.messages.sent)
    assert {r.status for r in records} == {NotificationStatus.SENT}


@pytest.mark.anyio
async def test_a_bounce_receipt_is_audited_and_the_next_run_uses_the_fallback_channel() -> None:
    w = await build_world()
    lead = w.subs["G1"].group.lead
    context = attrs.evolve(
        w.context, capabilities={lead.urn: frozenset({Channel.PUSH, Channel.SMS})}
    )
    await issue_meal_cards(w.deps, TENANT, w.case_urn, context=context)
    w.clock.advance(timedelta(hours=4))
    await load_due_meals(w.deps, TENANT, w.case_urn, context=context)
    await run_notification_stage(w.deps, TENANT, w.case_urn, context=context)
    (push,) = [
        n
        for n in await w.store.notifications.find(TENANT, group_id="G1")
        if n.type == "wallet.card-loaded"
    ]
    assert push.channel is Channel.PUSH
    before = len(w.messages.sent)
    bounced = await handle_delivery_receipt(
        w.deps, TENANT, push.dedup_key, NotificationStatus.BOUNCED, event_urn=Urn("event", "p-1")
    )
    assert bounced.status is NotificationStatus.BOUNCED
    again = await handle_delivery_receipt(
        w.deps, TENANT, push.dedup_key, NotificationStatus.DELIVERED, event_urn=Urn("event", "p-1")
    )
    assert again.status is NotificationStatus.BOUNCED  # a redelivered receipt changes nothing
    (entry,) = await w.store.audit.query(TENANT, AuditQuery(action="notification.bounced"))
    assert entry.after == {"status": "BOUNCED", "channel": "PUSH", "type": "wallet.card-loaded"}
    await run_notification_stage(w.deps, TENANT, w.case_urn, context=context)
    await run_notification_stage(w.deps, TENANT, w.case_urn, context=context)
    new = list(w.messages.sent.values())[before:]
    assert [(m.channel, m.to, m.subject) for m in new] == [
        (Channel.SMS, "+5511987654321", "O seu cartão de refeição foi recarregado")
    ]
    with pytest.raises(InvalidInputError):
        await handle_delivery_receipt(
            w.deps, TENANT, push.dedup_key, NotificationStatus.SENT, event_urn=Urn("event", "p-2")
        )


@pytest.mark.anyio
async def test_a_delivered_receipt_marks_the_message_delivered() -> None:
    w = await build_world()
    await run_notification_stage(w.deps, TENANT, w.case_urn, context=w.context)
    key = dedup_key("G2", N.VOUCHER_ISSUED, Channel.EMAIL, Urn("reservation", "r-2"))
    done = await handle_delivery_receipt(
        w.deps, TENANT, key, NotificationStatus.DELIVERED, event_urn=Urn("event", "sg-1")
    )
    assert done.status is NotificationStatus.DELIVERED
    report = await run_notification_stage(w.deps, TENANT, w.case_urn, context=w.context)
    assert report.sent == 0


@pytest.mark.anyio
async def test_a_voucher_that_cannot_be_built_is_audited_and_the_rest_still_goes_out() -> None:
    w = await build_world()
    context = attrs.evolve(w.context, hotels={})  # no hotel data for the booked hotel
    report = await run_notification_stage(w.deps, TENANT, w.case_urn, context=context)
    assert report.sent > 0
    records = await w.store.notifications.find(TENANT, case_urn=w.case_urn)
    assert records and not [r for r in records if r.type == "voucher.issued"]
    failed = await w.store.audit.query(TENANT, AuditQuery(action="notification.failed"))
    assert len(failed) == 3 and all("no hotel data" in f.reason for f in failed)
