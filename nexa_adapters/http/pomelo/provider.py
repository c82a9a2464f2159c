"""Pomelo virtual cards: one card per (case, group), loads on a Nexa-side ledger, cancel,
and signed transaction webhooks.

Pomelo lets the issuer run the authorizer: Pomelo calls our ``/transactions/authorizations``
and ``/transactions/adjustments/{type}`` endpoints, signed with the API secret. Nexa uses
that model: :meth:`PomeloCards.load` (and :meth:`~PomeloCards.schedule_load` for funds that
become spendable later, e.g. tomorrow's meals) credit the card's
:class:`~nexa_core.model.CardAccount`, authorizations are approved against it, settlements
fix the final amount and reversals give funds back. The accounts live in the operational
store (``card_accounts``), tenant-scoped and versioned: balances survive restarts and
every worker answers from the same one. Every webhook is verified (HMAC-SHA256 of
``timestamp + endpoint + body``, ``X-Signature: hmac-sha256 <base64>``; an authorization's
signature expires after 60 s as Pomelo documents, other webhooks get 300 s) before
anything is processed, and the answer is signed the same way.

Card statuses (:data:`CARD_STATUSES`): only ``ACTIVE`` cards spend; ``BLOCKED`` (blocked
by the client or the user, reversible) and ``EMERGENCY`` (an emergency block, e.g. a card
reported lost) decline authorizations; ``DISABLED`` is cancelled for good.

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
import random
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

import anyio
import attrs
import httpx

from nexa_adapters.http._base import HttpAdapter
from nexa_adapters.http._inbound import check_body_size, decode_json, header
from nexa_adapters.http._oauth import TokenCache
from nexa_adapters.http._resilience import parse_json, parse_model
from nexa_adapters.http.pomelo import dto
from nexa_adapters.webhooks import TOLERANCE
from nexa_core.errors import (
    ConcurrencyError,
    DuplicateError,
    MalformedResponseError,
    NotFoundError,
    ProviderRejectedError,
    WebhookVerificationError,
)
from nexa_core.model import CardAccount, CardStatus, Money, card_account_urn
from nexa_core.ports import AggregateStore, CardIssued, CardIssueRequest
from nexa_core.tenancy import TenantContext
from nexa_core.urn import Urn

__all__ = [
    "CARD_STATUSES",
    "SPENDABLE",
    "PomeloCards",
    "PrepaidLedger",
    "WebhookOutcome",
    "pomelo_signature",
]

T = TypeVar("T")

#: every card status Pomelo publishes → the canonical card status
CARD_STATUSES: Mapping[str, CardStatus] = {
    "CREATED": CardStatus.ISSUED,
    "ACTIVE": CardStatus.ACTIVE,
    "BLOCKED": CardStatus.ISSUED,  # exists, declines until unblocked
    "EMERGENCY": CardStatus.ISSUED,  # emergency block (lost, stolen, fraud): declines
    "DISABLED": CardStatus.CANCELLED,
}
#: the statuses under which authorizations may be approved
SPENDABLE = frozenset({"ACTIVE"})
#: Pomelo: an authorization's signature expires after one minute; other webhooks get the
#: shared tolerance.
AUTHORIZATION_TOLERANCE = timedelta(seconds=60)
_VENDOR = "pomelo"
_RETRIES = 8


def pomelo_signature(secret: str, timestamp: str, endpoint: str, body: bytes) -> str:
    """``hmac-sha256 <base64 HMAC-SHA256(secret, timestamp + endpoint + body)>``."""
    content = timestamp.encode() + endpoint.encode() + body
    digest = hmac.new(secret.encode(), content, hashlib.sha256).digest()
    return "hmac-sha256 " + base64.b64encode(digest).decode()


def _card_status(raw: str, operation: str) -> str:
    status = raw.upper()
    if status not in CARD_STATUSES:
        raise MalformedResponseError(
            f"pomelo {operation}: unknown card status {raw!r}",
            vendor=_VENDOR,
            operation=operation,
            fields="data.status",
        )
    return status


class PrepaidLedger:
    """Card accounts in the operational store: loads (possibly scheduled) minus live holds.

    Every change is a read-modify-write at the account's version, repeated (with a short
    jittered pause) on a concurrent write, so two workers answering authorizations never
    overspend a card; inside one process changes to a card are serialised first. Without a
    store (a bare adapter) the accounts live in an in-memory store.
    """

    def __init__(self, accounts: AggregateStore[CardAccount] | None = None) -> None:
        if accounts is None:
            from nexa_adapters.memory import MemoryStore

            accounts = MemoryStore().card_accounts
        self._accounts = accounts
        self._locks: dict[tuple[str, str], anyio.Lock] = {}

    @staticmethod
    def _urn(card_ref: str) -> Urn:
        return card_account_urn(_VENDOR, card_ref)

    async def open(
        self, tenant: Urn, card_ref: str, currency: str, status: str = "ACTIVE"
    ) -> CardAccount:
        """The card's account, created empty on first use (idempotent)."""
        ctx = TenantContext.system(tenant)
        try:
            return await self._accounts.get(ctx, self._urn(card_ref))
        except NotFoundError:
            pass
        fresh = CardAccount(self._urn(card_ref), tenant, card_ref, currency, status)
        try:
            return await self._accounts.add(ctx, fresh)
        except DuplicateError:  # another worker opened it first
            return await self._accounts.get(ctx, self._urn(card_ref))

    async def account(self, tenant: Urn, card_ref: str) -> CardAccount:
        """The card's account or NotFoundError."""
        return await self._accounts.get(TenantContext.system(tenant), self._urn(card_ref))

    async def change(
        self, tenant: Urn, card_ref: str, fn: Callable[[CardAccount], tuple[CardAccount, T]]
    ) -> T:
        """Apply ``fn`` to the current account and store the result (retried on conflict)."""
        ctx = TenantContext.system(tenant)
        lock = self._locks.setdefault((str(tenant), card_ref), anyio.Lock())
        async with lock:
            for attempt in range(_RETRIES):
                current = await self._accounts.get(ctx, self._urn(card_ref))
                updated, result = fn(current)
                if updated == current:
                    return result
                try:
                    await self._accounts.update(ctx, updated)
                except ConcurrencyError:  # another worker wrote first: read again
                    await anyio.sleep(random.uniform(0, 0.005 * (attempt + 1)))
                    continue
                return result
        raise ConcurrencyError(
            f"pomelo card {card_ref}: too many concurrent changes", card=card_ref
        )

    async def credit(
        self, tenant: Urn, card_ref: str, key: str, amount: Money, at: datetime | None = None
    ) -> bool:
        """Add a load once per key; False when the key was already applied."""

        def apply(acct: CardAccount) -> tuple[CardAccount, bool]:
            updated = acct.credit(key, amount, at)
            return updated, updated is not acct

        return await self.change(tenant, card_ref, apply)

    async def available(self, tenant: Urn, card_ref: str, now: datetime) -> Decimal:
        """Spendable now: due loads minus live authorizations."""
        return (await self.account(tenant, card_ref)).available(now)

    async def set_status(self, tenant: Urn, card_ref: str, status: str) -> None:
        """Record the card's partner status (``DISABLED`` also closes the account)."""
        await self.change(
            tenant,
            card_ref,
            lambda a: (
                attrs.evolve(
                    a, vendor_status=status, cancelled=a.cancelled or status == "DISABLED"
                ),
                None,
            ),
        )


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

    def __init__(
        self,
        *,
        ledger: PrepaidLedger | None = None,
        accounts: AggregateStore[CardAccount] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.tokens = TokenCache(self._fetch_token, clock=self.clock)
        self.ledger = ledger or PrepaidLedger(accounts)

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
            await self.ledger.open(tenant, seen["vendor_ref"], request.currency)
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
        status = _card_status(card.status, "card.create")
        if CARD_STATUSES[status] is CardStatus.CANCELLED:
            raise ProviderRejectedError(
                f"pomelo card.create: the new card is {status}", vendor=self.vendor
            )
        await self.ledger.open(tenant, card.id, request.currency, status)
        await self.replays.put(
            tenant, "pomelo.card", request.idempotency_key, {"vendor_ref": card.id}
        )
        return CardIssued(request.card_urn, card.id)

    async def load(
        self, airline_urn: Urn, card: CardIssued, amount: Money, *, idempotency_key: str
    ) -> None:
        """Credit the card now (idempotent on the key)."""
        await self.ledger.credit(airline_urn, card.vendor_ref, idempotency_key, amount)

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
        await self.ledger.credit(
            airline_urn, card.vendor_ref, idempotency_key, amount, available_at
        )

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
        updated = parse_model(
            dto.CardResponse,
            parse_json(response, self.vendor, "card.cancel"),
            self.vendor,
            "card.cancel",
        ).data
        status = _card_status(updated.status, "card.cancel")
        if status != "DISABLED":
            raise ProviderRejectedError(
                f"pomelo card.cancel: the card is still {status}", vendor=self.vendor
            )
        with contextlib.suppress(NotFoundError):  # a card issued before the store kept it
            await self.ledger.set_status(airline_urn, card.vendor_ref, status)
        await self.replays.put(airline_urn, "pomelo.cancel", card.vendor_ref, {"done": True})

    # ------------------------------------------------------------------ webhooks

    async def handle_webhook(
        self, tenant: Urn, body: bytes, headers: Mapping[str, str], *, now: datetime | None = None
    ) -> WebhookOutcome:
        """Verify, then apply an authorization, settlement or reversal; a signed answer.

        Raises :class:`WebhookVerificationError` (answer 401) before touching the ledger.
        """
        check_body_size(body, self.vendor)
        secret = (await self.secret(tenant, "api_secret")).reveal()
        ts, endpoint = header(headers, "X-Timestamp"), header(headers, "X-Endpoint")
        sig = header(headers, "X-Signature")
        if not ts or not endpoint or not sig:
            raise WebhookVerificationError("missing Pomelo signature headers")
        current = now or self.clock.now()
        try:
            sent = int(ts)
        except ValueError:
            raise WebhookVerificationError("Pomelo X-Timestamp is not an integer") from None
        window = (
            AUTHORIZATION_TOLERANCE
            if endpoint.startswith("/transactions/authorizations")
            else TOLERANCE
        )
        if abs(current.timestamp() - sent) > window.total_seconds():
            raise WebhookVerificationError(
                f"Pomelo webhook timestamp outside {int(window.total_seconds())} s",
                timestamp=sent,
            )
        expected = pomelo_signature(secret, ts, endpoint, body)
        if not hmac.compare_digest(expected.encode(), sig.strip().encode()):
            raise WebhookVerificationError("Pomelo webhook signature does not match")
        try:
            event = dto.TransactionEvent.model_validate(decode_json(body, self.vendor))
        except ValueError:
            raise WebhookVerificationError(
                "Pomelo webhook body does not match the contract"
            ) from None
        kind, answer = await self._apply(tenant, endpoint, event, current)
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

    async def _apply(
        self, tenant: Urn, endpoint: str, event: dto.TransactionEvent, now: datetime
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

        def answer(status: str, detail: str, message: str = "") -> dict[str, str]:
            return {"status": status, "status_detail": detail, "message": message}

        def apply(acct: CardAccount) -> tuple[CardAccount, tuple[str, dict[str, str]]]:
            if seen_key in acct.applied:
                approved = kind != "authorization" or acct.holds_for(tx.id)
                return acct, (
                    "duplicate",
                    answer(
                        "APPROVED" if approved else "REJECTED",
                        "APPROVED" if approved else "INSUFFICIENT_BALANCE",
                        "duplicate",
                    ),
                )
            done = acct.mark_applied(seen_key)
            if kind == "authorization":
                if reversal:
                    return done.release(tx.original_transaction_id or ""), (
                        kind,
                        answer("APPROVED", "APPROVED"),
                    )
                if (
                    acct.cancelled
                    or acct.vendor_status not in SPENDABLE
                    or event.amount.local.currency != acct.currency
                ):
                    return done, (kind, answer("REJECTED", "INVALID_CARD"))
                if acct.available(now) < amount:
                    return done, (kind, answer("REJECTED", "INSUFFICIENT_BALANCE"))
                return done.hold(tx.id, amount), (kind, answer("APPROVED", "APPROVED"))
            target = tx.original_transaction_id or tx.id
            if reversal:
                return done.release(target), (kind, answer("APPROVED", "APPROVED"))
            # the settled amount replaces the authorized one
            return done.hold(target, amount), (kind, answer("APPROVED", "APPROVED"))

        try:
            return await self.ledger.change(tenant, card_ref, apply)
        except NotFoundError:
            return kind, answer("REJECTED", "CARD_NOT_FOUND")
