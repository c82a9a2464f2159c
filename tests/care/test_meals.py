"""Meal entitlement, card issuance and drops, webhook balances and reconciliation."""

from __future__ import annotations

import functools
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import anyio
import attrs
import pytest

from nexa_adapters.sandbox import airport
from nexa_core.care import (
    MEAL_WINDOW,
    CardEvent,
    CardEventKind,
    card_urn_for,
    care_for,
    issue_meal_card,
    ledger_for,
    load_due_drops,
    meal_plan,
    meal_windows,
    read_document,
    reconcile_meal_cards,
    record_card_event,
    regulation_meal_minimums,
    run_due_drops,
)
from nexa_core.errors import InvalidInputError
from nexa_core.model import CardStatus, Money, PassengerType, Tier
from nexa_core.policy import MealRules
from nexa_core.regulation import Disruption
from nexa_core.urn import Urn
from tests.care.world import TENANT, build_world, group, pax

SCL = "America/Santiago"


def _family():
    return group(
        "G1",
        "ABC123",
        pax("p-1", "Ana"),
        pax("p-2", "Bea", type=PassengerType.CHD),
        pax("p-3", "Cai", type=PassengerType.INF),
    )


def test_single_load_covers_each_started_day_for_every_non_infant() -> None:
    rules = MealRules(allowance={Tier.ECONOMY: Decimal(25)}, currency="USD")
    start = datetime(2026, 5, 5, 21, 0, tzinfo=UTC)
    plan = meal_plan(_family(), rules, start=start, end=start + timedelta(hours=30), timezone=SCL)
    assert plan is not None
    assert plan.eligible_passengers == 2
    assert [(load.at, load.amount, load.label) for load in plan.loads] == [
        (start, Money(100, "USD"), "single")  # 25 × 2 passengers × 2 started days
    ]


def test_drops_fall_at_local_meal_times_inside_the_window() -> None:
    rules = MealRules(allowance={Tier.ECONOMY: Decimal(30)}, currency="USD", schedule="drops")
    start = datetime(2026, 5, 5, 21, 0, tzinfo=UTC)  # 17:00 in Santiago (UTC-04:00)
    end = datetime(2026, 5, 6, 17, 0, tzinfo=UTC)  # 13:00 next day
    plan = meal_plan(_family(), rules, start=start, end=end, timezone=SCL)
    assert plan is not None
    local = [(load.at.astimezone(start.tzinfo).isoformat(), load.label) for load in plan.loads]
    assert local == [
        ("2026-05-05T23:00:00+00:00", "dinner"),
        ("2026-05-06T11:00:00+00:00", "breakfast"),
        ("2026-05-06T16:00:00+00:00", "lunch"),
    ]
    assert {load.amount for load in plan.loads} == {Money(20, "USD")}  # 30 × 2 / 3
    assert plan.total == Money(60, "USD")


def test_a_window_already_open_when_the_stay_starts_drops_at_the_start() -> None:
    start = datetime(2026, 5, 6, 0, 30, tzinfo=UTC)  # 20:30 in Santiago: dinner is open
    end = datetime(2026, 5, 6, 11, 40, tzinfo=UTC)  # 07:40 next morning
    windows = meal_windows(start, end, SCL, ("07:00", "12:00", "19:00"))
    assert windows == [("dinner", start), ("breakfast", datetime(2026, 5, 6, 11, 0, tzinfo=UTC))]
    late = start + MEAL_WINDOW  # 23:30: dinner is over, only breakfast is left
    assert [label for label, _ in meal_windows(late, end, SCL, ("07:00", "12:00", "19:00"))] == [
        "breakfast"
    ]


def test_no_allowance_means_no_card_and_regulation_minimum_raises_it() -> None:
    rules = MealRules(allowance={}, currency="USD")
    start = datetime(2026, 5, 5, 21, 0, tzinfo=UTC)
    assert meal_plan(_family(), rules, start=start, end=start, timezone=SCL) is None
    plan = meal_plan(
        _family(), rules, start=start, end=start, timezone=SCL, minimum_per_day=Money(15, "USD")
    )
    assert plan is not None and plan.total == Money(30, "USD")


def test_bad_meal_rules_are_refused() -> None:
    start = datetime(2026, 5, 5, 21, 0, tzinfo=UTC)
    weekly = MealRules(allowance={Tier.ECONOMY: Decimal(1)}, schedule="weekly")
    with pytest.raises(InvalidInputError):
        meal_plan(_family(), weekly, start=start, end=start, timezone=SCL)
    with pytest.raises(InvalidInputError):
        meal_plan(_family(), weekly, start=start, end=start - timedelta(hours=1), timezone=SCL)


def _event(n: int, kind: CardEventKind, amount: str, auth: str | None = None) -> CardEvent:
    return CardEvent(
        Urn("event", f"e-{n}"),
        Urn("issued-card", "ic-1"),
        kind,
        Money(amount, "USD"),
        datetime(2026, 5, 5, 22, n, tzinfo=UTC),
        authorization=auth,
    )


def test_ledger_follows_authorization_settlement_and_reversal() -> None:
    ledger = ledger_for(
        "USD",
        [
            _event(1, CardEventKind.LOAD, "60"),
            _event(2, CardEventKind.AUTHORIZATION, "20", "a1"),
            _event(3, CardEventKind.AUTHORIZATION, "15", "a2"),
            _event(4, CardEventKind.SETTLEMENT, "18", "a1"),  # tip-adjusted down
            _event(5, CardEventKind.REVERSAL, "15", "a2"),  # released hold
        ],
    )
    assert (ledger.loaded, ledger.settled, ledger.pending) == (Decimal(60), Decimal(18), Decimal(0))
    assert ledger.available == Decimal(42)
    assert ledger.apply(_event(4, CardEventKind.SETTLEMENT, "18", "a1")) is False  # redelivery


async def _issue_all(w):  # type: ignore[no-untyped-def]
    out = {}
    for gid in ("G1", "G2", "G3"):
        card = await issue_meal_card(w.deps, TENANT, w.subs[gid], w.care(gid))
        assert card is not None
        out[gid] = card
    return out


@pytest.mark.anyio
async def test_one_card_per_group_held_by_the_lead_with_drops_at_the_stays_meal_windows() -> None:
    w = await build_world()
    cards = await _issue_all(w)
    assert {g: c.holder_urn for g, c in cards.items()}["G1"] == w.subs["G1"].group.lead.urn
    assert cards["G1"].urn == card_urn_for(w.case_urn, "G1")
    stay = w.subs["G1"].stay_plan
    assert stay is not None
    windows = meal_windows(
        stay.check_in, stay.check_out, stay.timezone, ("07:00", "12:00", "19:00")
    )
    assert [(d.label, d.due_at) for d in cards["G1"].drops] == windows  # dinner, breakfast
    assert all(c.loaded == Money(0, "USD") for c in cards.values())  # 16:00: nothing due yet
    again = await _issue_all(w)
    assert {g: c.urn for g, c in again.items()} == {g: c.urn for g, c in cards.items()}
    assert len(w.payments.cards) == 3
    w.clock.advance(timedelta(hours=4))  # 20:00 local: dinner due
    await load_due_drops(w.deps, TENANT, w.case_urn)
    await load_due_drops(w.deps, TENANT, w.case_urn)
    assert len(w.payments.loads) == 3
    g1 = await w.store.cards.get(TENANT, cards["G1"].urn)
    assert g1.loaded == Money(20, "USD") and g1.status is CardStatus.ACTIVE  # 30 × 2 / 3
    assert [d.loaded_at is not None for d in g1.drops] == [True, False]
    g3 = await w.store.cards.get(TENANT, cards["G3"].urn)
    assert g3.loaded == Money(20, "USD")  # business: 60 × 1 / 3


@pytest.mark.anyio
async def test_a_group_owed_no_meals_gets_no_card() -> None:
    w = await build_world()
    care = attrs.evolve(w.care("G1"), meal_allowance=None)
    assert await issue_meal_card(w.deps, TENANT, w.subs["G1"], care) is None
    assert w.payments.cards == {}


@pytest.mark.anyio
async def test_the_scheduler_loads_due_drops_tells_the_lead_and_rewrites_the_page() -> None:
    from nexa_core.care import build_document, publish_document

    w = await build_world()
    cards = await _issue_all(w)
    sub = w.subs["G1"]
    await publish_document(
        w.deps, TENANT, build_document(sub, published_at=w.clock.now(), card=cards["G1"])
    )
    w.clock.advance(timedelta(hours=4))
    touched = await run_due_drops(w.deps, TENANT, w.case_urn, airport_language="es")
    assert sorted(c.group_id for c, _ in touched) == ["G1", "G2", "G3"]
    pushed = [
        m for m in w.messages.sent.values() if "meal card" in m.text.lower() or "cartão" in m.text
    ]
    assert pushed  # G1 (Portuguese) heard about the dinner drop
    doc = await read_document(w.deps, TENANT, sub.urn)
    assert doc.card is not None and doc.card.loaded == "20.00"
    assert await run_due_drops(w.deps, TENANT, w.case_urn) == []  # nothing new is due


@pytest.mark.anyio
async def test_card_webhooks_move_the_balance_and_reconciliation_reports_unused_value() -> None:
    w = await build_world()
    await _issue_all(w)
    w.clock.advance(timedelta(hours=4))
    await load_due_drops(w.deps, TENANT, w.case_urn)
    card = await w.store.cards.get(TENANT, card_urn_for(w.case_urn, "G1"))

    def ev(n: int, kind: CardEventKind, amount: str, auth: str) -> CardEvent:
        return CardEvent(
            Urn("event", f"w-{n}"), card.urn, kind, Money(amount, "USD"), w.clock.now(), auth
        )

    await record_card_event(w.deps, TENANT, ev(1, CardEventKind.AUTHORIZATION, "12.50", "a1"))
    card = await record_card_event(w.deps, TENANT, ev(2, CardEventKind.SETTLEMENT, "12.50", "a1"))
    assert card.spent == Money("12.50", "USD") and card.balance == Money("7.50", "USD")
    same = await record_card_event(w.deps, TENANT, ev(2, CardEventKind.SETTLEMENT, "12.50", "a1"))
    assert same.spent == card.spent  # redelivered webhook
    with pytest.raises(InvalidInputError):
        await record_card_event(
            w.deps,
            TENANT,
            CardEvent(
                Urn("event", "w-9"),
                card.urn,
                CardEventKind.AUTHORIZATION,
                Money(1, "EUR"),
                w.clock.now(),
                "a9",
            ),
        )
    assert (await w.store.cards.get(TENANT, card.urn)).spent == card.spent  # nothing changed
    report = await reconcile_meal_cards(w.deps, TENANT, w.case_urn)
    row = next(r for r in report.rows if r.group_id == "G1")
    assert (row.loaded, row.settled, row.unused) == (Decimal(20), Decimal("12.50"), Decimal("7.50"))
    assert report.loaded() == {"USD": Decimal(50)}  # G1 20, G2 10, G3 20
    assert report.spent() == {"USD": Decimal("12.50")}
    assert report.unused() == {"USD": Decimal("37.50")}


@pytest.mark.anyio
async def test_another_tenants_card_event_is_refused() -> None:
    from nexa_core.errors import NotFoundError
    from nexa_core.tenancy import TenantContext

    w = await build_world()
    cards = await _issue_all(w)
    event = CardEvent(
        Urn("event", "w-1"),
        cards["G1"].urn,
        CardEventKind.AUTHORIZATION,
        Money(1, "USD"),
        w.clock.now(),
        "a1",
    )
    with pytest.raises(NotFoundError):
        await record_card_event(w.deps, TenantContext.system("urn:airline:TAM"), event)


@pytest.mark.anyio
async def test_a_regulation_minimum_raises_the_policy_allowance_for_that_group() -> None:
    w = await build_world()
    sub = w.subs["G2"]
    assert w.care("G2").meal_allowance == Decimal(30)  # the policy's own
    care = care_for(
        w.policy, sub.group, sub.stay_plan, airport("SCL"), regulation_meals=Money(45, "USD")
    )
    assert care.meal_allowance == Decimal(45)
    card = await issue_meal_card(w.deps, TENANT, sub, care)
    assert card is not None and card.per_day == Money(45, "USD")
    assert {d.amount for d in card.drops} == {Money(15, "USD")}  # 45 a day → 15 a meal


def test_regulation_presets_decide_which_groups_get_the_meal_minimum() -> None:
    groups = [_family(), group("G2", "DEF456", pax("p-9", "Dan"))]
    long = Disruption(delay=timedelta(hours=5), distance_km=1000)
    short = Disruption(delay=timedelta(minutes=30), distance_km=1000)
    per_day = Money(20, "EUR")
    assert regulation_meal_minimums(groups, ["EU261"], long, per_day) == {
        "G1": per_day,
        "G2": per_day,
    }
    assert regulation_meal_minimums(groups, ["EU261"], short, per_day) == {}
    assert regulation_meal_minimums(groups, [], long, per_day) == {}


@pytest.mark.anyio
async def test_concurrent_issue_and_load_runs_issue_one_card_and_load_each_drop_once() -> None:
    w = await build_world()
    w.payments.faults.latency_s = 0.001  # let the runs interleave at every partner call
    async with anyio.create_task_group() as tg:
        for _ in range(3):
            for gid in ("G1", "G2", "G3"):
                tg.start_soon(
                    functools.partial(issue_meal_card, w.deps, TENANT, w.subs[gid], w.care(gid))
                )
    w.clock.advance(timedelta(hours=4))
    async with anyio.create_task_group() as tg:
        for _ in range(3):
            tg.start_soon(functools.partial(load_due_drops, w.deps, TENANT, w.case_urn))
    cards = await w.store.cards.find(TENANT, case_urn=w.case_urn)
    assert sorted(c.group_id for c in cards) == ["G1", "G2", "G3"]
    assert {c.group_id: c.loaded for c in cards} == {
        "G1": Money(20, "USD"),
        "G2": Money(10, "USD"),
        "G3": Money(20, "USD"),
    }
    assert len(w.payments.loads) == 3
