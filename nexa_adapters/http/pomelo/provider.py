"""Pomelo virtual cards: one card per (case, group), loads on a Nexa-side ledger, cancel,
and signed transaction webhooks.

Pomelo lets the issuer run the authorizer: Pomelo calls our ``/transactions/authorizations``
and ``/transactions/adjustments/{type}`` endpoints, signed with the API secret. Nexa uses
that model: :meth:`PomeloCards.load` (and :meth:`~PomeloCards.schedule_load` for funds that
become spendable later, e.g. tomorrow's meals) credit a per-card :class:`PrepaidLedger`,
authorizations are approved against it, settlements fix the final amount and reversals
give funds back. Every webhook is verified (HMAC-SHA256 of ``timestamp + endpoint + body``,
``X-Signature: hmac-sha256 <base64>``, 300 s skew) before anything is processed, and the
answer is signed the same way.

Credentials per tenant: ``client_id``, ``client_secret``, ``audience`` (optional),
``user_id`` (the airline's cardholder user), ``affinity_group_id`` and ``api_secret``
(webhook signatures). No PAN or CVV is requested, parsed, stored or logged.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

import attrs
import httpx

from nexa_adapters.http._base import HttpAdapter
from nexa_adapters.http._oauth import TokenCache
from nexa_adapters.http._resilience import parse_json, parse_model
from nexa_adapters.http.pomelo import dto
from nexa_adapters.webhooks import TOLERANCE
from nexa_core.errors import (
    InvalidInputError,
    NotFoundError,
    ProviderRejectedError,
    WebhookVerificationError,
)
from nexa_core.model import Money
from nexa_core.ports import CardIssued, CardIssueRequest
from nexa_core.urn import Urn

__all__ = ["PomeloCards", "PrepaidLedger", "WebhookOutcome", "pomelo_signature"]


def pomelo_signature(secret: str, timestamp: str, endpoint: str, body: bytes) -> str:
    """``hmac-sha256 <base64 HMAC-SHA256(secret, timestamp + endpoint + body)>``."""
    content = timestamp.encode() + endpoint.encode() + body
    digest = hmac.new(secret.encode(), content, hashlib.sha256).digest()
    return "hmac-sha256 " + base64.b64encode(digest).decode()


@attrs.define
class _Account:
    currency: str
    loads: dict[str, tuple[Decimal, datetime | None]] = attrs.field(factory=dict)
    holds: dict[str, Decimal] = attrs.field(factory=dict)  # authorizations not reversed
    cancelled: bool = False


class PrepaidLedger:
    """Balances per card: loads (possibly scheduled) minus live authorizations."""

    def __init__(self) -> None:
        self._accounts: dict[str, _Account] = {}

    def open(self, card_ref: str, currency: str) -> None:
        """Start an empty account (idempotent)."""
        self._accounts.setdefault(card_ref, _Account(currency))

    def account(self, card_ref: str) -> _Account:
        """The card's account or NotFoundError."""
        acct = self._accounts.get(card_ref)
        if acct is None:
            raise NotFoundError(f"no Pomelo card {card_ref} in the ledger", card=card_ref)
        return acct

    def close(self, card_ref: str) -> None:
        """Refuse further authorizations on the card (no error when unknown)."""
        acct = self._accounts.get(card_ref)
        if acct is not None:
            acct.cancelled = True

    def credit(self, card_ref: str, key: str, amount: Money, at: datetime | None = None) -> bool:
        """Add a load once per key; False when the key was already applied."""
        acct = self.account(card_ref)
        if amount.currency != acct.currency:
            raise InvalidInputError(
                f"card currency is {acct.currency}, load is {amount.currency}", field="currency"
            )
        if amount.amount <= 0:
            raise InvalidInputError("a load must be positive", field="amount")
        if key in acct.loads:
            return False
        acct.loads[key] = (amount.amount, at)
        return True

    def available(self, card_ref: str, now: datetime) -> Decimal:
        """Spendable now: due loads minus live authorizations."""
        acct = self.account(card_ref)
        loaded = sum((a for a, at in acct.loads.values() if at is None or at <= now), Decimal(0))
        return loaded - sum(acct.holds.values(), Decimal(0))


@attrs.frozen
class WebhookOutcome:
    """What to answer Pomelo: a JSON body and the signed response headers."""

    status_code: int
    body: bytes
    headers: Mapping[str, str]
    event: str  # authorization | settlement | reversal | duplicate


class PomeloCards(HttpAdapter):
    """PaymentProvider over Pomelo's Cards API with a Nexa-side prepaid ledger."""

    vendor = "pomelo"
    default_base_url = "https://api-sandbox.pomelo.la"

    def __init__(self, *, ledger: PrepaidLedger | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.tokens = TokenCache(self._fetch_token, clock=self.clock)
        self.ledger = ledger or PrepaidLedger()
        self._webhooks_seen: set[str] = set()

    async def _fetch_token(self, tenant: Urn) -> tuple[str, float]:
        body = {
            "client_id": (await self.secret(tenant, "client_id")).reveal(),
            "client_secret": (await self.secret(tenant, "client_secret")).reveal(),
            "grant_type": "client_credentials",
        }
        with contextlib.suppress(NotFoundError):
            body["audience"] = (await self.secret(tenant, "audience")).reveal()
        response = await self.http.request(
            "POST", "/oauth/token", tenant=tenant, operation="oauth.token", json=body
        )
        token = parse_model(
            dto.TokenResponse,
            parse_json(response, self.vendor, "oauth.token"),
            self.vendor,
            "oauth.token",
        )
        return token.access_token, float(token.expires_in)

    async def _call(
        self,
        method: str,
        path: str,
        tenant: Urn,
        operation: str,
        *,
        idempotency_key: str | None = None,
        **kw: Any,
    ) -> httpx.Response:
        async def headers() -> dict[str, str]:
            h = {"Authorization": f"Bearer {await self.tokens.token(tenant)}"}
            if idempotency_key:
                h["x-idempotency-key"] = idempotency_key
            return h

        async def refresh() -> None:
            await self.tokens.invalidate(tenant)

        return await self.http.request(
            method, path, tenant=tenant, operation=operation, headers=headers, refresh=refresh, **kw
        )

    # ------------------------------------------------------------------ cards

    async def issue_card(self, request: CardIssueRequest) -> CardIssued:
        """``POST /cards/v1/`` with the idempotency key (Pomelo and we both dedupe)."""
        tenant = request.airline_urn
        seen = await self.replays.get(tenant, "pomelo.card", request.idempotency_key)
        if seen is not None:
            self.ledger.open(seen["vendor_ref"], request.currency)
            return CardIssued(request.card_urn, seen["vendor_ref"], replayed=True)
        body = {
            "user_id": (await self.secret(tenant, "user_id")).reveal(),
            "affinity_group_id": (await self.secret(tenant, "affinity_group_id")).reveal(),
            "card_type": "VIRTUAL",
        }
        # Pomelo dedupes on x-idempotency-key, so retrying the create is safe
        response = await self._call(
            "POST",
            "/cards/v1/",
            tenant,
            "card.create",
            idempotency_key=request.idempotency_key,
            json=body,
        )
        card = parse_model(
            dto.CardResponse,
            parse_json(response, self.vendor, "card.create"),
            self.vendor,
            "card.create",
        ).data
        if card.status.upper() not in ("ACTIVE", "CREATED"):
            raise ProviderRejectedError(f"pomelo card.create: status {card.status}")
        self.ledger.open(card.id, request.currency)
        await self.replays.put(
            tenant, "pomelo.card", request.idempotency_key, {"vendor_ref": card.id}
        )
        return CardIssued(request.card_urn, card.id)

    async def load(
        self, airline_urn: Urn, card: CardIssued, amount: Money, *, idempotency_key: str
    ) -> None:
        """Credit the card now (idempotent on the key)."""
        self.ledger.credit(card.vendor_ref, idempotency_key, amount)

    async def schedule_load(
        self,
        airline_urn: Urn,
        card: CardIssued,
        amount: Money,
        *,
        available_at: datetime,
        idempotency_key: str,
    ) -> None:
        """Credit the card from ``available_at`` on (e.g. the next day's meals)."""
        self.ledger.credit(card.vendor_ref, idempotency_key, amount, available_at)

    async def cancel_card(
        self, airline_urn: Urn, card: CardIssued, *, idempotency_key: str
    ) -> None:
        """``PATCH /cards/v1/{id}`` to DISABLED (idempotent)."""
        if await self.replays.get(airline_urn, "pomelo.cancel", card.vendor_ref):
            return
        response = await self._call(
            "PATCH",
            f"/cards/v1/{card.vendor_ref}",
            airline_urn,
            "card.cancel",
            idempotency_key=idempotency_key,
            json={"status": "DISABLED", "status_reason": "CLIENT_INTERNAL_REASON"},
        )
        parse_model(
            dto.CardResponse,
            parse_json(response, self.vendor, "card.cancel"),
            self.vendor,
            "card.cancel",
        )
        self.ledger.close(card.vendor_ref)
        await self.replays.put(airline_urn, "pomelo.cancel", card.vendor_ref, {"done": True})

    # ------------------------------------------------------------------ webhooks

    async def handle_webhook(
        self, tenant: Urn, body: bytes, headers: Mapping[str, str], *, now: datetime | None = None
    ) -> WebhookOutcome:
        """Verify, then apply an authorization, settlement or reversal; a signed answer.

        Raises :class:`WebhookVerificationError` (answer 401) before touching the ledger.
        """
        secret = (await self.secret(tenant, "api_secret")).reveal()
        h = {k.lower(): v for k, v in headers.items()}
        ts, endpoint, sig = h.get("x-timestamp"), h.get("x-endpoint"), h.get("x-signature")
        if not ts or not endpoint or not sig:
            raise WebhookVerificationError("missing Pomelo signature headers")
        current = now or self.clock.now()
        try:
            sent = int(ts)
        except ValueError:
            raise WebhookVerificationError("Pomelo X-Timestamp is not an integer") from None
        if abs(current.timestamp() - sent) > TOLERANCE.total_seconds():
            raise WebhookVerificationError("Pomelo webhook timestamp outside 300 s", timestamp=sent)
        expected = pomelo_signature(secret, ts, endpoint, body)
        if not hmac.compare_digest(expected.encode(), sig.strip().encode()):
            raise WebhookVerificationError("Pomelo webhook signature does not match")
        try:
            event = dto.TransactionEvent.model_validate(json.loads(body))
        except (ValueError, TypeError):
            raise WebhookVerificationError(
                "Pomelo webhook body does not match the contract"
            ) from None
        kind, answer = self._apply(endpoint, event, current)
        out = json.dumps(answer, separators=(",", ":")).encode()
        rts = str(int(current.timestamp()))
        return WebhookOutcome(
            200,
            out,
            {
                "Content-Type": "application/json",
                "X-Endpoint": endpoint,
                "X-Timestamp": rts,
                "X-Signature": pomelo_signature(secret, rts, endpoint, out),
            },
            kind,
        )

    def _apply(
        self, endpoint: str, event: dto.TransactionEvent, now: datetime
    ) -> tuple[str, dict[str, str]]:
        tx, card_ref = event.transaction, event.card.id
        amount = event.amount.local.total
        reversal = tx.type.upper().startswith("REVERSAL")
        kind = (
            "authorization"
            if endpoint.startswith("/transactions/authorizations")
            else ("reversal" if reversal else "settlement")
        )
        seen_key = f"{kind}:{tx.id}"
        try:
            acct = self.ledger.account(card_ref)
        except NotFoundError:
            return kind, {"status": "REJECTED", "status_detail": "CARD_NOT_FOUND", "message": ""}
        if seen_key in self._webhooks_seen:
            approved = kind != "authorization" or tx.id in acct.holds
            return "duplicate", {
                "status": "APPROVED" if approved else "REJECTED",
                "status_detail": "APPROVED" if approved else "INSUFFICIENT_BALANCE",
                "message": "duplicate",
            }
        self._webhooks_seen.add(seen_key)
        if kind == "authorization":
            if acct.cancelled or event.amount.local.currency != acct.currency:
                return kind, {"status": "REJECTED", "status_detail": "INVALID_CARD", "message": ""}
            if reversal:
                acct.holds.pop(tx.original_transaction_id or "", None)
                return kind, {"status": "APPROVED", "status_detail": "APPROVED", "message": ""}
            if self.ledger.available(card_ref, now) < amount:
                return kind, {
                    "status": "REJECTED",
                    "status_detail": "INSUFFICIENT_BALANCE",
                    "message": "",
                }
            acct.holds[tx.id] = amount
            return kind, {"status": "APPROVED", "status_detail": "APPROVED", "message": ""}
        target = tx.original_transaction_id or tx.id
        if reversal:
            acct.holds.pop(target, None)
        else:
            acct.holds[target] = amount  # the settled amount replaces the authorized one
        return kind, {"status": "APPROVED", "status_detail": "APPROVED", "message": ""}
