"""Prepaid meal cards: what is owed, when it is loaded, and what was spent.

Pure rules (facts file §16). One card per (case, group), held by the lead passenger.
The policy's :class:`~nexa_core.policy.MealRules` give a per-passenger, per-day allowance
by tier; regulation presets may raise it (pass ``minimum_per_day``). Funding is a single
load or scheduled drops (breakfast, lunch, dinner at local times). Balances follow card
webhooks: an authorization holds value, a settlement turns it into spend, a reversal
gives it back.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from datetime import datetime, time, timedelta
from decimal import ROUND_DOWN, Decimal
from zoneinfo import ZoneInfo

import attrs

from nexa_core.errors import InvalidInputError
from nexa_core.model import Money, PassengerGroup, PassengerType
from nexa_core.policy import MealRules
from nexa_core.regulation import Disruption, care_for_group
from nexa_core.urn import Urn

__all__ = [
    "MEAL_NAMES",
    "CardEvent",
    "CardEventKind",
    "CardLedger",
    "CardReconciliation",
    "MealLoad",
    "MealPlan",
    "ledger_for",
    "meal_plan",
    "regulation_meal_minimums",
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
    ``drops``: at each local drop time inside the window, a third of the daily
    allowance per passenger. Returns ``None`` when the tier has no allowance.
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
        zone = ZoneInfo(timezone)
        slots = [_parse_time(t) for t in rules.drop_times]
        share = (per_group_day.amount / len(slots)).quantize(Decimal("0.01"), ROUND_DOWN)
        out: list[MealLoad] = []
        day = start.astimezone(zone).date()
        while True:
            for i, slot in enumerate(slots):
                at = datetime.combine(day, slot, tzinfo=zone)
                if start <= at <= end:
                    label = MEAL_NAMES[i] if i < len(MEAL_NAMES) else f"meal-{i + 1}"
                    out.append(MealLoad(at, Money(share, allowance.currency), label))
            if datetime.combine(day, time(0), tzinfo=zone) > end:
                break
            day += timedelta(days=1)
        if not out:  # a window shorter than any slot still gets one meal
            out.append(MealLoad(start, Money(share, allowance.currency), "single"))
        loads = tuple(out)
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
