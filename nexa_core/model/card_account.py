"""The spendable balance of one partner-issued card, as the card's authorizer keeps it.

When the card processor lets the issuer authorize (Pomelo does), Nexa answers every
authorization from this account: loads (some only spendable from a later moment) minus
live holds. It is an aggregate of the operational store, so balances survive restarts
and every worker sees the same one; its version makes concurrent authorizations safe.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import attrs

from nexa_core.errors import InvalidInputError
from nexa_core.model.common import Money, to_decimal
from nexa_core.urn import Urn

__all__ = ["CardAccount", "CardHold", "CardLoad", "card_account_urn"]


def card_account_urn(vendor: str, vendor_ref: str) -> Urn:
    """``urn:card-account:<vendor ref>:vendor:<vendor>``."""
    return Urn("card-account", vendor_ref, vendor)


@attrs.frozen
class CardLoad:
    """Funds credited once per ``key``; spendable from ``available_at`` (None: now)."""

    key: str
    amount: Decimal = attrs.field(converter=to_decimal)
    available_at: datetime | None = None


@attrs.frozen
class CardHold:
    """Value held by a live authorization (a settlement replaces the amount)."""

    transaction: str
    amount: Decimal = attrs.field(converter=to_decimal)


@attrs.frozen
class CardAccount:
    """Loads, holds and applied webhook keys of one card (tenant-scoped, versioned)."""

    urn: Urn
    airline_urn: Urn
    vendor_ref: str
    currency: str
    vendor_status: str = "ACTIVE"
    loads: tuple[CardLoad, ...] = ()
    holds: tuple[CardHold, ...] = ()
    applied: tuple[str, ...] = ()  # webhook keys already applied (redeliveries)
    cancelled: bool = False
    version: int = 0

    def loaded(self, now: datetime) -> Decimal:
        """Loads spendable at ``now``."""
        return sum(
            (x.amount for x in self.loads if x.available_at is None or x.available_at <= now),
            Decimal(0),
        )

    def held(self) -> Decimal:
        """Value held by live authorizations."""
        return sum((h.amount for h in self.holds), Decimal(0))

    def available(self, now: datetime) -> Decimal:
        """Spendable now: due loads minus live holds."""
        return self.loaded(now) - self.held()

    def credit(self, key: str, amount: Money, at: datetime | None = None) -> CardAccount:
        """The account with a load added (unchanged when ``key`` was already applied)."""
        if amount.currency != self.currency:
            raise InvalidInputError(
                f"card currency is {self.currency}, load is {amount.currency}", field="currency"
            )
        if amount.amount <= 0:
            raise InvalidInputError("a load must be positive", field="amount")
        if any(x.key == key for x in self.loads):
            return self
        return attrs.evolve(self, loads=(*self.loads, CardLoad(key, amount.amount, at)))

    def hold(self, transaction: str, amount: Decimal) -> CardAccount:
        """Hold (or re-price, on settlement) ``transaction``."""
        kept = tuple(h for h in self.holds if h.transaction != transaction)
        return attrs.evolve(self, holds=(*kept, CardHold(transaction, amount)))

    def release(self, transaction: str) -> CardAccount:
        """Drop the hold of ``transaction`` (no error when there is none)."""
        return attrs.evolve(
            self, holds=tuple(h for h in self.holds if h.transaction != transaction)
        )

    def holds_for(self, transaction: str) -> bool:
        """Whether ``transaction`` holds value."""
        return any(h.transaction == transaction for h in self.holds)

    def mark_applied(self, key: str) -> CardAccount:
        """Remember that the webhook ``key`` was applied."""
        return self if key in self.applied else attrs.evolve(self, applied=(*self.applied, key))
