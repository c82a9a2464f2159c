"""Pomelo payloads (cards API and transaction webhooks). No PAN/CVV field is ever modelled:
anything not listed here is dropped on parsing."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field


class _M(BaseModel):
    model_config = ConfigDict(extra="ignore")


class TokenResponse(_M):
    access_token: str = Field(min_length=1)
    expires_in: int = Field(gt=0)
    token_type: str = "Bearer"


class Card(_M):
    id: str = Field(pattern=r"^crd-[A-Za-z0-9]+$")
    status: str
    card_type: str | None = None
    product_type: str | None = None
    last_four: str | None = Field(default=None, pattern=r"^\d{4}$")


class CardResponse(_M):
    """``POST /cards/v1/`` and ``PATCH /cards/v1/{id}``."""

    data: Card


class Money(_M):
    total: Decimal
    currency: str = Field(min_length=3, max_length=3)


class Amounts(_M):
    local: Money
    settlement: Money | None = None
    transaction: Money | None = None


class Transaction(_M):
    id: str = Field(min_length=1)
    type: str
    original_transaction_id: str | None = None


class CardRef(_M):
    id: str = Field(pattern=r"^crd-[A-Za-z0-9]+$")


class TransactionEvent(_M):
    """The body of ``/transactions/authorizations`` and ``/transactions/adjustments/{type}``."""

    transaction: Transaction
    card: CardRef
    amount: Amounts
