"""Prepaid meal cards: what is owed, when it is loaded, and what was spent.

Rules (facts file §16) and the card service. One card per (case, group), held by the
lead passenger; its drops are scheduled at the stay's meal windows on the airport's
clock and each drop is loaded once under its own idempotency key.
The policy's :class:`~nexa_core.policy.MealRules` give a per-passenger, per-day allowance
by tier; regulation presets may raise it (pass ``minimum_per_day``). Funding is a single
load or scheduled drops (breakfast, lunch, dinner at local times). Balances follow card
webhooks: an authorization holds value, a settlement turns it into spend, a reversal
gives it back.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Iterable, Sequence
from datetime import datetime, time, timedelta
from decimal import ROUND_DOWN, Decimal
from zoneinfo import ZoneInfo

import attrs

from nexa_core.care.context import (
    CareDeps,
    CareInstructions,
    audit_entry,
    domain_event,
    on_case_timeline,
)
from nexa_core.care.document import refresh_document
from nexa_core.errors import (
    ConcurrencyError,
    ConfigurationError,
    DuplicateError,
    InvalidInputError,
    NotFoundError,
)
from nexa_core.idempotency import idempotency_key
from nexa_core.model import (
    AuditEntry,
    CardDrop,
    CardStatus,
    IssuedCard,
    Money,
    PassengerGroup,
    PassengerType,
    SubCase,
)
from nexa_core.policy import MealRules
from nexa_core.ports import AuditQuery, CardIssued, CardIssueRequest, OperationalStore
from nexa_core.regulation import Disruption, care_for_group
from nexa_core.tenancy import TenantContext
from nexa_core.urn import Urn, without_status

__all__ = [
    "MEAL_NAMES",
    "MEAL_WINDOW",
    "CardEvent",
    "CardEventKind",
    "CardLedger",
    "CardReconciliation",
    "MealLoad",
    "MealPlan",
    "MealReconciliation",
    "cancel_meal_card",
    "card_key",
    "card_ledger",
    "card_urn_for",
    "group_meal_plan",
    "issue_meal_card",
    "ledger_for",
    "load_due",
    "load_due_drops",
    "meal_plan",
    "meal_windows",
    "reconcile_meal_cards",
    "record_card_event",
    "regulation_meal_minimums",
    "run_due_drops",
]

#: names of the scheduled drops, in the order of ``MealRules.drop_times``
MEAL_NAMES = ("breakfast", "lunch", "dinner")


@attrs.frozen
class MealLoad:
    """One load of a card: when (aware), how much, and which meal it is for."""

    at: datetime
    amount: Money
    label: str  # "single" | "breakfast" | "lunch" | "dinner"


@attrs.frozen
class MealPlan:
    """What a group is owed and how it is funded."""

    group_id: str
    eligible_passengers: int
    per_day: Money
    loads: tuple[MealLoad, ...]

    @property
    def total(self) -> Money:
        """Sum of every load."""
        total = Money(0, self.per_day.currency)
        for load in self.loads:
            total = total + load.amount
        return total


def regulation_meal_minimums(
    groups: Iterable[PassengerGroup],
    regulations: Iterable[str],
    disruption: Disruption,
    per_day: Money,
) -> dict[str, Money]:
    """``per_day`` for every group in which a regulation owes any passenger meals.

    The presets say *whether* meals are owed (``nexa_core.regulation``); the amount is the
    tenant's (``per_day``). Feed the result to ``CareContext.regulation_meals``.
    """
    keys = tuple(regulations)
    out: dict[str, Money] = {}
    for group in groups:
        owed = care_for_group(keys, disruption, group)
        if any(care.meals for care in owed.values()):
            out[group.group_id] = per_day
    return out


def _parse_time(text: str) -> time:
    try:
        hh, mm = text.split(":")
        return time(int(hh), int(mm))
    except ValueError as exc:
        raise InvalidInputError(
            f"meal drop time {text!r} is not HH:MM", field="drop_times"
        ) from exc


#: how long a meal window stays open after its drop time (a 19:00 dinner drop covers a
#: stay that starts at 20:30: the window is still open, so the drop happens at check-in)
MEAL_WINDOW = timedelta(hours=3)


def meal_windows(
    start: datetime, end: datetime, timezone: str, drop_times: Sequence[str]
) -> list[tuple[str, datetime]]:
    """The meal windows a stay overlaps, as ``(meal, drop time)`` on the local clock.

    A window opens at its drop time and stays open :data:`MEAL_WINDOW`; a window already
    open when the stay starts drops at the start. Sorted by time.
    """
    if start.tzinfo is None or end.tzinfo is None:
        raise InvalidInputError("meal window must be timezone-aware", field="start")
    zone = ZoneInfo(timezone)
    slots = [_parse_time(t) for t in drop_times]
    out: list[tuple[str, datetime]] = []
    day = (start - MEAL_WINDOW).astimezone(zone).date()
    last = end.astimezone(zone).date()
    while day <= last:
        for i, slot in enumerate(slots):
            opens = datetime.combine(day, slot, tzinfo=zone)
            if opens <= end and opens + MEAL_WINDOW > start:
                label = MEAL_NAMES[i] if i < len(MEAL_NAMES) else f"meal-{i + 1}"
                out.append((label, max(opens, start)))
        day += timedelta(days=1)
    out.sort(key=lambda w: w[1])
    return out


def meal_plan(
    group: PassengerGroup,
    rules: MealRules,
    *,
    start: datetime,
    end: datetime,
    timezone: str,
    minimum_per_day: Money | None = None,
) -> MealPlan | None:
    """The care owed to ``group`` between ``start`` and ``end`` (aware datetimes).

    Infants are not counted. ``single``: one load at ``start`` of
    ``per_day × passengers × days`` (days = the stay rounded up, at least one).
    ``drops``: one drop per meal window the stay overlaps (:func:`meal_windows`), each a
    third of the daily allowance per passenger. Returns ``None`` when the tier has no
    allowance.
    """
    if start.tzinfo is None or end.tzinfo is None:
        raise InvalidInputError("meal window must be timezone-aware", field="start")
    if end < start:
        raise InvalidInputError("meal window ends before it starts", field="end")
    allowance = rules.allowance_for(group.tier)
    if minimum_per_day is not None and (
        allowance is None
        or (
            allowance.currency == minimum_per_day.currency
            and allowance.amount < minimum_per_day.amount
        )
    ):
        allowance = minimum_per_day
    if allowance is None or allowance.amount <= 0:
        return None
    eligible = sum(1 for p in group.passengers if p.type is not PassengerType.INF)
    if eligible == 0:
        return None
    per_group_day = allowance.times(eligible)
    if rules.schedule == "single":
        seconds = (end - start).total_seconds()
        days = max(1, -(-int(seconds) // 86400))
        loads: tuple[MealLoad, ...] = (MealLoad(start, per_group_day.times(days), "single"),)
    elif rules.schedule == "drops":
        if not rules.drop_times:
            raise InvalidInputError("meal drops need at least one drop time", field="drop_times")
        share = (per_group_day.amount / len(rules.drop_times)).quantize(Decimal("0.01"), ROUND_DOWN)
        windows = meal_windows(start, end, timezone, rules.drop_times)
        if not windows:  # a stay shorter than any window still gets one meal
            windows = [("single", start)]
        loads = tuple(
            MealLoad(at, Money(share, allowance.currency), label) for label, at in windows
        )
    else:
        raise InvalidInputError(
            f"meal schedule {rules.schedule!r} is not 'single' or 'drops'", field="schedule"
        )
    return MealPlan(group.group_id, eligible, allowance, loads)


class CardEventKind(enum.StrEnum):
    """Card webhook events that move a balance."""

    LOAD = "LOAD"
    AUTHORIZATION = "AUTHORIZATION"
    SETTLEMENT = "SETTLEMENT"
    REVERSAL = "REVERSAL"


@attrs.frozen
class CardEvent:
    """One card webhook event (``event_urn`` dedups redeliveries)."""

    event_urn: Urn
    card_urn: Urn
    kind: CardEventKind
    amount: Money
    at: datetime
    authorization: str | None = None  # the authorization id a settlement/reversal refers to
    merchant: str | None = None


@attrs.frozen
class CardReconciliation:
    """One card's totals: loaded, settled, still authorized, reversed, unused."""

    card_urn: Urn
    group_id: str
    currency: str
    loaded: Decimal
    settled: Decimal
    pending: Decimal
    reversed: Decimal

    @property
    def unused(self) -> Decimal:
        """Value loaded and neither spent nor held."""
        return self.loaded - self.settled - self.pending


@attrs.define
class CardLedger:
    """Folds card events into a balance (idempotent per event URN).

    An authorization holds value; its settlement moves the held amount (or the settled
    amount, if different) to spend; a reversal releases a held authorization, or refunds a
    settled one.
    """

    currency: str
    loaded: Decimal = Decimal(0)
    settled: Decimal = Decimal(0)
    reversed: Decimal = Decimal(0)
    held: dict[str, Decimal] = attrs.field(factory=dict)
    settled_auths: dict[str, Decimal] = attrs.field(factory=dict)
    seen: set[str] = attrs.field(factory=set)

    @property
    def pending(self) -> Decimal:
        """Value held by open authorizations."""
        return sum(self.held.values(), Decimal(0))

    @property
    def available(self) -> Decimal:
        """What the passenger can still spend."""
        return self.loaded - self.settled - self.pending

    def apply(self, event: CardEvent) -> bool:
        """Apply one event; False when it was already applied."""
        key = str(event.event_urn)
        if key in self.seen:
            return False
        if event.amount.currency != self.currency:
            raise InvalidInputError(
                f"card event in {event.amount.currency}, card is in {self.currency}",
                field="currency",
            )
        if event.amount.amount < 0:
            raise InvalidInputError("card event amounts are positive", field="amount")
        amount = event.amount.amount
        auth = event.authorization or key
        if event.kind is CardEventKind.LOAD:
            self.loaded += amount
        elif event.kind is CardEventKind.AUTHORIZATION:
            self.held[auth] = self.held.get(auth, Decimal(0)) + amount
        elif event.kind is CardEventKind.SETTLEMENT:
            self.held.pop(auth, None)
            self.settled += amount
            self.settled_auths[auth] = self.settled_auths.get(auth, Decimal(0)) + amount
        else:  # REVERSAL
            if auth in self.held:
                self.held.pop(auth)
            else:
                self.settled -= amount
            self.reversed += amount
        self.seen.add(key)
        return True

    def apply_all(self, events: Iterable[CardEvent]) -> CardLedger:
        """Apply events in order; returns self."""
        for e in sorted(events, key=lambda e: e.at):
            self.apply(e)
        return self

    def reconcile(self, card_urn: Urn, group_id: str) -> CardReconciliation:
        """The ledger as a report row."""
        return CardReconciliation(
            card_urn,
            group_id,
            self.currency,
            self.loaded,
            self.settled,
            self.pending,
            self.reversed,
        )


def ledger_for(currency: str, events: Sequence[CardEvent]) -> CardLedger:
    """A fresh ledger with ``events`` applied."""
    return CardLedger(currency).apply_all(events)


# --------------------------------------------------------------------------- the card service


def card_key(case_urn: Urn, group_id: str) -> str:
    """The card's idempotency key: one card per (case, group)."""
    return idempotency_key("card", without_status(case_urn), group_id)


def card_urn_for(case_urn: Urn, group_id: str) -> Urn:
    """The card's URN, minted from its key (a retry names the same card)."""
    return Urn("issued-card", "ic-" + card_key(case_urn, group_id).split(":", 1)[1][:20])


def group_meal_plan(
    sub_case: SubCase, instructions: CareInstructions, *, now: datetime
) -> MealPlan | None:
    """The group's meal plan over its stay (None: no allowance).

    Without a stay plan the window runs from ``now`` to the next departure (a day when
    none is known).
    """
    if not instructions.meal_allowance:
        return None
    stay = sub_case.stay_plan
    if stay is not None:
        start, end, tz = stay.check_in, max(stay.check_out, stay.check_in), stay.timezone
    else:
        start = now
        end = sub_case.next_departure or now + timedelta(days=1)
        end, tz = max(end, start), instructions.timezone
    return meal_plan(
        sub_case.group,
        instructions.meal_rules(sub_case.group.tier),
        start=start,
        end=end,
        timezone=tz or instructions.timezone,
    )


def _drop_key(card: Urn, load: MealLoad) -> str:
    return idempotency_key("card-load", without_status(card), load.label, load.at.isoformat())


def _ledger_events(card: IssuedCard, entries: Iterable[AuditEntry]) -> list[CardEvent]:
    events = [
        CardEvent(
            Urn("event", "load-" + d.key.split(":", 1)[1][:24]),
            card.urn,
            CardEventKind.LOAD,
            d.amount,
            d.loaded_at,
        )
        for d in card.drops
        if d.loaded_at is not None
    ]
    for e in entries:
        if e.action != "card.event":
            continue
        events.append(
            CardEvent(
                event_urn=Urn.parse(str(e.after["event_urn"])),
                card_urn=card.urn,
                kind=CardEventKind(e.after["kind"]),
                amount=Money(e.after["amount"], e.after["currency"]),
                at=e.at,
                authorization=e.after.get("authorization"),
            )
        )
    return events


async def card_ledger(
    store: OperationalStore, tenant: TenantContext, card: IssuedCard
) -> CardLedger:
    """The card's ledger: its loaded drops plus every card webhook recorded."""
    entries = await store.audit.query(
        tenant, AuditQuery(entity_urn=without_status(card.urn), action="card.event")
    )
    ledger = CardLedger(card.currency)
    for event in _ledger_events(card, entries):  # drops first, then arrival order
        ledger.apply(event)
    return ledger


async def issue_meal_card(
    deps: CareDeps,
    tenant: TenantContext,
    sub_case: SubCase,
    instructions: CareInstructions,
    *,
    existing: IssuedCard | None = None,
) -> IssuedCard | None:
    """The group's meal card with its drop schedule, and the drops due now loaded.

    One card per (case, group) held by the lead passenger (the partner sees the card
    key; a repeat returns the same card and loads nothing twice). None when the group is
    owed no meals. ``existing`` skips the store read when the caller holds the card.
    """
    plan = group_meal_plan(sub_case, instructions, now=deps.clock.now())
    if plan is None:
        return None
    payments = deps.payments
    if payments is None:
        raise ConfigurationError("issuing meal cards needs a payment provider")
    urn = card_urn_for(sub_case.case_urn, sub_case.group.group_id)
    card = existing
    if card is None:
        try:
            card = await deps.store.cards.get(tenant, urn)
        except NotFoundError:
            card = None
    if card is None:
        key = card_key(sub_case.case_urn, sub_case.group.group_id)
        currency = plan.per_day.currency
        request = CardIssueRequest(
            tenant.airline_urn,
            urn,
            without_status(sub_case.case_urn),
            sub_case.group.group_id,
            sub_case.group.lead.urn,
            currency,
            key,
        )
        issued = await deps.call(payments.name, "card", lambda: payments.issue_card(request))
        fresh = IssuedCard(
            urn=urn,
            airline_urn=tenant.airline_urn,
            case_urn=without_status(sub_case.case_urn),
            group_id=sub_case.group.group_id,
            holder_urn=sub_case.group.lead.urn,
            currency=currency,
            loaded=Money(0, currency),
            spent=Money(0, currency),
            vendor_ref=issued.vendor_ref,
            sub_case_urn=without_status(sub_case.urn),
            per_day=plan.per_day,
            passengers=plan.eligible_passengers,
            drops=tuple(
                CardDrop(load.label, load.at, load.amount, _drop_key(urn, load))
                for load in plan.loads
            ),
        )
        # the drops due now are loaded before the card is recorded: one commit for both
        now = deps.clock.now()
        due = [d for d in fresh.drops if d.due_at <= now]
        await _load_at_partner(deps, tenant, fresh, due)
        card, newly = _mark_loaded(fresh, {d.key for d in due}, now)
        try:
            async with deps.store.transaction() as tx:
                card = await tx.cards.add(tenant, card)
                await tx.audit.append(
                    tenant,
                    audit_entry(
                        deps,
                        tenant,
                        "card.issued",
                        card.urn,
                        f"meal card for group {card.group_id}",
                        {},
                        {
                            "vendor": payments.name,
                            "drops": len(card.drops),
                            "planned": str(card.planned),
                        },
                    ),
                )
                await tx.outbox.append(
                    tenant,
                    domain_event(
                        deps,
                        tenant,
                        "wallet.card-issued",
                        card.urn,
                        {"sub_case": str(card.sub_case_urn), "group_id": card.group_id},
                        key=key,
                    ),
                )
                await _record_loads(deps, tx, tenant, card, newly)
            return card
        except DuplicateError:  # a concurrent run recorded the same card first
            card = await deps.store.cards.get(tenant, urn)
    return await load_due(deps, tenant, card)


async def _load_at_partner(
    deps: CareDeps, tenant: TenantContext, card: IssuedCard, due: Sequence[CardDrop]
) -> None:
    """One partner load per drop, each under the drop's own key (replays are no-ops)."""
    payments = deps.payments
    assert payments is not None
    ref = CardIssued(card.urn, card.vendor_ref or "")
    for drop in due:
        await deps.call(
            payments.name,
            "card",
            functools.partial(
                payments.load, tenant.airline_urn, ref, drop.amount, idempotency_key=drop.key
            ),
        )


def _mark_loaded(
    card: IssuedCard, keys: set[str], now: datetime
) -> tuple[IssuedCard, list[CardDrop]]:
    """The card with the drops of ``keys`` marked loaded (and its total), and those drops."""
    drops = tuple(
        attrs.evolve(d, loaded_at=now) if d.key in keys and d.loaded_at is None else d
        for d in card.drops
    )
    newly = [d for d, old in zip(drops, card.drops, strict=True) if d is not old]
    loaded = card.loaded
    for d in newly:
        loaded = loaded + d.amount
    status = CardStatus.ACTIVE if newly else card.status
    return attrs.evolve(card, drops=drops, loaded=loaded, status=status), newly


async def _record_loads(
    deps: CareDeps,
    tx: OperationalStore,
    tenant: TenantContext,
    card: IssuedCard,
    newly: Sequence[CardDrop],
) -> None:
    for d in newly:
        await tx.audit.append(
            tenant,
            audit_entry(
                deps,
                tenant,
                "card.loaded",
                card.urn,
                f"{d.label} drop",
                {},
                {
                    "amount": str(d.amount.amount),
                    "currency": d.amount.currency,
                    "label": d.label,
                    "due": d.due_at.isoformat(),
                    "key": d.key,
                },
            ),
        )
        await tx.outbox.append(
            tenant,
            domain_event(
                deps,
                tenant,
                "wallet.card-loaded",
                card.urn,
                {"label": d.label, "amount": str(d.amount)},
                key=d.key,
            ),
        )


async def load_due(
    deps: CareDeps, tenant: TenantContext, card: IssuedCard, *, now: datetime | None = None
) -> IssuedCard:
    """Load every drop of ``card`` due by ``now`` (each once, by its key); one commit."""
    if deps.payments is None:
        raise ConfigurationError("loading meal cards needs a payment provider")
    now = now or deps.clock.now()
    due = [d for d in card.drops if d.loaded_at is None and d.due_at <= now]
    if not due or card.status is CardStatus.CANCELLED:
        return card
    await _load_at_partner(deps, tenant, card, due)
    keys = {d.key for d in due}
    for _ in range(3):  # a concurrent load or webhook may have moved the card meanwhile
        updated, newly = _mark_loaded(card, keys, now)
        if not newly:
            return card
        try:
            async with deps.store.transaction() as tx:
                stored: IssuedCard = await tx.cards.update(tenant, updated)
                await _record_loads(deps, tx, tenant, stored, newly)
            return stored
        except ConcurrencyError:
            card = await deps.store.cards.get(tenant, card.urn)
    raise ConcurrencyError(
        f"{card.urn} kept changing while its drops were loaded", urn=str(card.urn)
    )


async def load_due_drops(
    deps: CareDeps, tenant: TenantContext, case_urn: Urn, *, now: datetime | None = None
) -> list[tuple[IssuedCard, tuple[CardDrop, ...]]]:
    """The scheduler's entry: load every card of the case whose drops fell due.

    Returns each card touched with the drops just loaded (the caller announces them).
    """
    out: list[tuple[IssuedCard, tuple[CardDrop, ...]]] = []
    for card in await deps.store.cards.find(tenant, case_urn=without_status(case_urn)):
        before = {d.key for d in card.drops if d.loaded_at is not None}
        after = await load_due(deps, tenant, card, now=now)
        fresh = tuple(d for d in after.drops if d.loaded_at is not None and d.key not in before)
        if fresh:
            out.append((after, fresh))
    return out


async def run_due_drops(
    deps: CareDeps,
    tenant: TenantContext,
    case_urn: Urn,
    *,
    now: datetime | None = None,
    airport_language: str | None = None,
) -> list[tuple[IssuedCard, tuple[CardDrop, ...]]]:
    """Load the drops that fell due, tell each lead (``wallet.card-loaded``) and rewrite
    their passenger pages. Safe to run as often as a scheduler likes."""
    from nexa_core.care.notifications import announce_drop

    touched = await load_due_drops(deps, tenant, case_urn, now=now)
    for card, drops in touched:
        if card.sub_case_urn is None:
            continue
        sub = await deps.store.sub_cases.get(tenant, card.sub_case_urn)
        for drop in drops:
            await announce_drop(deps, tenant, sub, card, drop, airport_language=airport_language)
        await refresh_document(deps, tenant, sub.urn)
    return touched


async def cancel_meal_card(
    deps: CareDeps, tenant: TenantContext, card_urn: Urn, *, reason: str
) -> IssuedCard | None:
    """Cancel the card at the partner and in the store (a repeat is a no-op)."""
    try:
        card = await deps.store.cards.get(tenant, card_urn)
    except NotFoundError:
        return None
    if card.status is CardStatus.CANCELLED:
        return card
    payments = deps.payments
    if payments is not None:
        ref = CardIssued(card.urn, card.vendor_ref or "")
        await deps.call(
            payments.name,
            "card",
            functools.partial(
                payments.cancel_card,
                tenant.airline_urn,
                ref,
                idempotency_key=f"cancel:{without_status(card.urn)}",
            ),
        )
    async with deps.store.transaction() as tx:
        current = await tx.cards.get(tenant, card.urn)
        updated: IssuedCard = await tx.cards.update(
            tenant, attrs.evolve(current, status=CardStatus.CANCELLED)
        )
        await tx.audit.append(
            tenant,
            audit_entry(
                deps,
                tenant,
                "card.cancelled",
                card.urn,
                reason,
                {"status": current.status.value},
                {"status": CardStatus.CANCELLED.value},
            ),
        )
        await tx.outbox.append(
            tenant, domain_event(deps, tenant, "card.cancelled", card.urn, {"reason": reason})
        )
    return updated


async def record_card_event(deps: CareDeps, tenant: TenantContext, event: CardEvent) -> IssuedCard:
    """Apply a card webhook (authorization, settlement, reversal) to the card's balance.

    Redeliveries of the same event URN change nothing; an event the ledger refuses
    (another currency, a negative amount) changes nothing either.
    """
    store = deps.store
    card = await store.cards.get(tenant, event.card_urn)  # another tenant's: NotFoundError
    tenant = await on_case_timeline(store, tenant, card.case_urn)
    if event.kind is CardEventKind.LOAD:
        raise InvalidInputError("loads are the card's own drops, not webhooks", field="kind")
    key = idempotency_key("webhook", event.event_urn)
    if await store.idempotency.lookup(tenant, "webhook", key) is not None:
        return card
    async with store.transaction() as tx:  # all or nothing: a bad event changes nothing
        claim = await tx.idempotency.remember(tenant, "webhook", key, {"card": str(card.urn)})
        card = await tx.cards.get(tenant, card.urn)
        if claim.replayed:
            return card
        ledger = await card_ledger(tx, tenant, card)
        ledger.apply(event)  # validates currency and amount
        await tx.audit.append(
            tenant,
            audit_entry(
                deps,
                tenant,
                "card.event",
                card.urn,
                f"card webhook {event.kind.value}",
                {},
                {
                    "kind": event.kind.value,
                    "amount": str(event.amount.amount),
                    "currency": event.amount.currency,
                    "authorization": event.authorization,
                    "event_urn": str(event.event_urn),
                    "merchant": event.merchant,
                },
            ),
        )
        spent = ledger.settled + ledger.pending
        card = await tx.cards.update(tenant, attrs.evolve(card, spent=Money(spent, card.currency)))
    if card.sub_case_urn is not None:  # the passenger page shows the balance
        await refresh_document(deps, tenant, card.sub_case_urn)
    return card


@attrs.frozen
class MealReconciliation:
    """Per-case report: one row per card, and totals per currency."""

    case_urn: Urn
    rows: tuple[CardReconciliation, ...]

    def _sum(self, field: str) -> dict[str, Decimal]:
        out: dict[str, Decimal] = {}
        for r in self.rows:
            out[r.currency] = out.get(r.currency, Decimal(0)) + getattr(r, field)
        return out

    def loaded(self) -> dict[str, Decimal]:
        """Loaded value per currency."""
        return self._sum("loaded")

    def spent(self) -> dict[str, Decimal]:
        """Settled spend per currency."""
        return self._sum("settled")

    def unused(self) -> dict[str, Decimal]:
        """Unused value (loaded, neither spent nor held) per currency."""
        return self._sum("unused")


async def reconcile_meal_cards(
    deps: CareDeps, tenant: TenantContext, case_urn: Urn
) -> MealReconciliation:
    """Loaded, settled, pending, reversed and unused value of every card of a case."""
    rows = []
    for card in await deps.store.cards.find(tenant, case_urn=without_status(case_urn)):
        ledger = await card_ledger(deps.store, tenant, card)
        rows.append(ledger.reconcile(card.urn, card.group_id))
    return MealReconciliation(without_status(case_urn), tuple(rows))
