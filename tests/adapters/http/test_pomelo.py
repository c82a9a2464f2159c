"""Pomelo adapter: conformance, idempotent cards, ledger loads, signed webhooks, no PAN."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
import respx

from nexa_adapters.http.pomelo import PomeloCards, pomelo_signature
from nexa_core.errors import (
    MalformedResponseError,
    ProviderAuthError,
    ProviderRejectedError,
    ProviderTimeoutError,
    ProviderUnavailableError,
    RateLimitedError,
    WebhookVerificationError,
)
from nexa_core.model import Money
from nexa_core.runtime import FixedClock
from nexa_core.testing.providers import (
    LAN,
    PaymentProviderContract,
    contains_card_number,
    sample_card_request,
)
from tests.adapters.http.conftest import adapter_options

BASE = "https://api-sandbox.pomelo.la"
SECRET = "pomelo-api-secret"
ENV = {
    "NEXA_SECRET__LAN__POMELO__CLIENT_ID": "pm-cid",
    "NEXA_SECRET__LAN__POMELO__CLIENT_SECRET": "pm-csecret",
    "NEXA_SECRET__LAN__POMELO__USER_ID": "usr-5BERfwA0nyGFI4Wn8a5y3yv3IGW",
    "NEXA_SECRET__LAN__POMELO__AFFINITY_GROUP_ID": "afg-20MpN8vmIPj77ujhb9cS8ctstN2",
    "NEXA_SECRET__LAN__POMELO__API_SECRET": SECRET,
}
PAN = "5555555555554444"


def card_body(card_id: str, status: str = "ACTIVE") -> dict[str, Any]:
    return {
        "data": {
            "id": card_id,
            "affinity_group_id": "afg-20MpN8vmIPj77ujhb9cS8ctstN2",
            "card_type": "VIRTUAL",
            "product_type": "PREPAID",
            "status": status,
            "shipment_id": None,
            "user_id": "usr-5BERfwA0nyGFI4Wn8a5y3yv3IGW",
            "start_date": "2026-05-05",
            "last_four": "4444",
            "provider": "MASTERCARD",
            "affinity_group_name": "NEXA_CARE",
        }
    }


class FakePomelo:
    def __init__(self, mock: respx.MockRouter) -> None:
        self.cards: dict[str, str] = {}  # idempotency key -> card id
        self.status: dict[str, str] = {}
        self.tokens = 0
        mock.post("/oauth/token").mock(side_effect=self.token)
        mock.post("/cards/v1/").mock(side_effect=self.create)
        mock.patch(url__regex=r".*/cards/v1/(?P<cid>crd-[A-Za-z0-9]+)$").mock(
            side_effect=self.patch
        )

    def token(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        assert body["grant_type"] == "client_credentials" and body["client_id"] == "pm-cid"
        self.tokens += 1
        return httpx.Response(
            200,
            json={
                "access_token": f"pm-tok-{self.tokens}",
                "expires_in": 86400,
                "token_type": "Bearer",
            },
        )

    def create(self, request: httpx.Request) -> httpx.Response:
        key = request.headers["x-idempotency-key"]
        body = json.loads(request.content)
        assert body["card_type"] == "VIRTUAL" and body["user_id"].startswith("usr-")
        cid = self.cards.setdefault(key, f"crd-{len(self.cards) + 1:04d}XyZ")
        self.status[cid] = "ACTIVE"
        return httpx.Response(200, json=card_body(cid))

    def patch(self, request: httpx.Request, cid: str) -> httpx.Response:
        body = json.loads(request.content)
        assert body == {"status": "DISABLED", "status_reason": "CLIENT_INTERNAL_REASON"}
        self.status[cid] = "DISABLED"
        return httpx.Response(200, json=card_body(cid, "DISABLED"))


@pytest.fixture
def pomelo() -> Any:
    with respx.mock(base_url=BASE, assert_all_called=False) as mock:
        yield FakePomelo(mock), mock


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


def _adapter(clock: FixedClock | None = None, **extra: Any) -> PomeloCards:
    return PomeloCards(**adapter_options(ENV, clock=clock or FixedClock(), **extra))


class TestPomeloConformance(PaymentProviderContract):
    @pytest.fixture
    async def provider(self, pomelo: Any) -> AsyncIterator[Any]:
        yield _adapter()


@pytest.mark.anyio
async def test_one_card_per_case_and_group_even_across_adapter_instances(pomelo: Any) -> None:
    fake, _ = pomelo
    first = await _adapter().issue_card(sample_card_request("card:c-1:G1"))
    # a fresh process has no local memory: Pomelo's idempotency key dedupes
    second = await _adapter().issue_card(sample_card_request("card:c-1:G1"))
    assert first.vendor_ref == second.vendor_ref and len(fake.cards) == 1


@pytest.mark.anyio
async def test_card_never_carries_a_pan_even_if_the_partner_sends_one(
    pomelo: Any, caplog: pytest.LogCaptureFixture
) -> None:
    _, mock = pomelo
    body = card_body("crd-77abc")
    body["data"]["pan"] = PAN
    body["data"]["cvv"] = "123"
    mock.post("/cards/v1/").respond(200, json=body)
    adapter = _adapter()
    with caplog.at_level(logging.DEBUG):
        card = await adapter.issue_card(sample_card_request("card:pan"))
    assert not contains_card_number(repr(card))
    assert PAN not in caplog.text and PAN not in repr(adapter.replays._local)


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("status", "error_cls"),
    [
        (400, ProviderRejectedError),
        (401, ProviderAuthError),
        (403, ProviderAuthError),
        (429, RateLimitedError),
        (500, ProviderUnavailableError),
        (503, ProviderUnavailableError),
        (504, ProviderTimeoutError),
    ],
)
async def test_error_mapping_table(pomelo: Any, status: int, error_cls: type[Exception]) -> None:
    _, mock = pomelo
    mock.post("/cards/v1/").respond(status, json={"error": {"code": "X", "details": []}})
    with pytest.raises(error_cls) as info:
        await _adapter().issue_card(sample_card_request("card:err"))
    assert type(info.value) is error_cls


@pytest.mark.anyio
async def test_401_forces_one_token_refresh(pomelo: Any) -> None:
    fake, mock = pomelo
    mock.post("/cards/v1/").mock(
        side_effect=[httpx.Response(401), httpx.Response(200, json=card_body("crd-9a"))]
    )
    await _adapter().issue_card(sample_card_request("card:401"))
    assert fake.tokens == 2


@pytest.mark.anyio
async def test_429_retry_after_and_timeouts(pomelo: Any) -> None:
    _, mock = pomelo
    mock.post("/cards/v1/").mock(
        side_effect=[
            httpx.Response(429, headers={"Retry-After": "3"}),
            httpx.Response(200, json=card_body("crd-9b")),
        ]
    )
    adapter = _adapter()
    await adapter.issue_card(sample_card_request("card:429"))
    assert list(adapter.http.slept) == [3.0]
    mock.post("/cards/v1/").mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(ProviderTimeoutError):
        await adapter.issue_card(sample_card_request("card:timeout"))


@pytest.mark.anyio
async def test_malformed_card_answer_is_not_remembered(pomelo: Any) -> None:
    _, mock = pomelo
    mock.post("/cards/v1/").respond(200, json={"data": {"id": "not-a-card", "status": "ACTIVE"}})
    adapter = _adapter()
    with pytest.raises(MalformedResponseError):
        await adapter.issue_card(sample_card_request("card:bad"))
    assert await adapter.replays.get(LAN, "pomelo.card", "card:bad") is None


# ---------------------------------------------------------------- webhooks


def _event(
    tx_id: str, card: str, amount: str, tx_type: str = "PURCHASE", original: str | None = None
) -> bytes:
    return json.dumps(
        {
            "transaction": {
                "id": tx_id,
                "country_code": "CHL",
                "type": tx_type,
                "point_type": "POS",
                "entry_mode": "CONTACTLESS",
                "origin": "DOMESTIC",
                "local_date_time": "2026-05-05T20:00:00",
                "original_transaction_id": original,
            },
            "merchant": {
                "id": "111111111111111",
                "mcc": "5812",
                "address": None,
                "name": "AIRPORT CAFE",
            },
            "card": {
                "id": card,
                "product_type": "PREPAID",
                "provider": "MASTERCARD",
                "last_four": "4444",
            },
            "user": {"id": "usr-5BERfwA0nyGFI4Wn8a5y3yv3IGW"},
            "amount": {
                "local": {"total": amount, "currency": "USD"},
                "transaction": {"total": amount, "currency": "USD"},
                "settlement": {"total": amount, "currency": "USD"},
                "details": [],
            },
        }
    ).encode()


def _signed(
    body: bytes, endpoint: str, clock: FixedClock, secret: str = SECRET, skew: int = 0
) -> dict[str, str]:
    ts = str(int(clock.now().timestamp()) + skew)
    return {
        "X-Api-Key": "pm-key",
        "X-Endpoint": endpoint,
        "X-Timestamp": ts,
        "X-Signature": pomelo_signature(secret, ts, endpoint, body),
    }


async def _funded_card(adapter: PomeloCards, amount: str = "30.00") -> str:
    card = await adapter.issue_card(sample_card_request("card:wh"))
    await adapter.load(LAN, card, Money(Decimal(amount), "USD"), idempotency_key="load:1")
    await adapter.load(LAN, card, Money(Decimal(amount), "USD"), idempotency_key="load:1")
    return card.vendor_ref


@pytest.mark.anyio
async def test_authorization_within_the_loaded_balance_is_approved_and_signed(
    pomelo: Any, clock: FixedClock
) -> None:
    adapter = _adapter(clock)
    card = await _funded_card(adapter)
    body = _event("ctx-1", card, "25.50")
    ep = "/transactions/authorizations"
    out = await adapter.handle_webhook(LAN, body, _signed(body, ep, clock), now=clock.now())
    assert json.loads(out.body)["status"] == "APPROVED" and out.event == "authorization"
    assert out.headers["X-Signature"] == pomelo_signature(
        SECRET, out.headers["X-Timestamp"], ep, out.body
    )
    assert await adapter.ledger.available(LAN, card, clock.now()) == Decimal("4.50")
    # the second load with the same key did nothing; the next purchase exceeds the balance
    body2 = _event("ctx-2", card, "5.00")
    out2 = await adapter.handle_webhook(LAN, body2, _signed(body2, ep, clock), now=clock.now())
    assert json.loads(out2.body)["status_detail"] == "INSUFFICIENT_BALANCE"


@pytest.mark.anyio
async def test_settlement_and_reversal_adjust_the_balance(pomelo: Any, clock: FixedClock) -> None:
    adapter = _adapter(clock)
    card = await _funded_card(adapter)
    auth = _event("ctx-1", card, "20.00")
    await adapter.handle_webhook(LAN, auth, _signed(auth, "/transactions/authorizations", clock))
    settle = _event("ctx-s1", card, "18.00", "PURCHASE", "ctx-1")
    ep = "/transactions/adjustments/DEBIT"
    out = await adapter.handle_webhook(LAN, settle, _signed(settle, ep, clock))
    assert out.event == "settlement"
    assert await adapter.ledger.available(LAN, card, clock.now()) == Decimal("12.00")
    rev = _event("ctx-r1", card, "18.00", "REVERSAL_PURCHASE", "ctx-1")
    out = await adapter.handle_webhook(
        LAN, rev, _signed(rev, "/transactions/adjustments/CREDIT", clock)
    )
    assert out.event == "reversal"
    assert await adapter.ledger.available(LAN, card, clock.now()) == Decimal("30.00")
    again = await adapter.handle_webhook(
        LAN, rev, _signed(rev, "/transactions/adjustments/CREDIT", clock)
    )
    assert again.event == "duplicate"
    assert await adapter.ledger.available(LAN, card, clock.now()) == Decimal("30.00")


@pytest.mark.anyio
async def test_scheduled_loads_become_spendable_at_their_time(
    pomelo: Any, clock: FixedClock
) -> None:
    adapter = _adapter(clock)
    card = await adapter.issue_card(sample_card_request("card:sched"))
    await adapter.schedule_load(
        LAN,
        card,
        Money(Decimal("15"), "USD"),
        available_at=clock.now() + timedelta(hours=12),
        idempotency_key="load:day2",
    )
    assert await adapter.ledger.available(LAN, card.vendor_ref, clock.now()) == 0
    assert (
        await adapter.ledger.available(LAN, card.vendor_ref, clock.now() + timedelta(hours=12))
        == 15
    )


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("mutate", "match"),
    [
        (lambda b, h: (b.replace(b"25.50", b"2.55"), h), "signature"),
        (
            lambda b, h: (
                b,
                {
                    **h,
                    "X-Signature": pomelo_signature("wrong", h["X-Timestamp"], h["X-Endpoint"], b),
                },
            ),
            "signature",
        ),
        (lambda b, h: (b, {**h, "X-Endpoint": "/transactions/adjustments/CREDIT"}), "signature"),
        (lambda b, h: (b, {k: v for k, v in h.items() if k != "X-Signature"}), "missing"),
    ],
)
async def test_webhooks_failing_verification_change_nothing(
    pomelo: Any, clock: FixedClock, mutate: Any, match: str
) -> None:
    adapter = _adapter(clock)
    card = await _funded_card(adapter)
    body = _event("ctx-1", card, "25.50")
    b, h = mutate(body, _signed(body, "/transactions/authorizations", clock))
    with pytest.raises(WebhookVerificationError, match=match):
        await adapter.handle_webhook(LAN, b, h)
    assert await adapter.ledger.available(LAN, card, clock.now()) == Decimal("30.00")


@pytest.mark.anyio
@pytest.mark.parametrize("skew", [-301, 301])
async def test_stale_or_future_webhooks_are_rejected(
    pomelo: Any, clock: FixedClock, skew: int
) -> None:
    adapter = _adapter(clock)
    card = await _funded_card(adapter)
    body = _event("ctx-1", card, "1.00")
    with pytest.raises(WebhookVerificationError, match="outside"):
        await adapter.handle_webhook(
            LAN, body, _signed(body, "/transactions/authorizations", clock, skew=skew)
        )


@pytest.mark.anyio
async def test_cancelled_cards_refuse_authorizations(pomelo: Any, clock: FixedClock) -> None:
    fake, _ = pomelo
    adapter = _adapter(clock)
    card = await adapter.issue_card(sample_card_request("card:cx"))
    await adapter.load(LAN, card, Money(Decimal("10"), "USD"), idempotency_key="l")
    await adapter.cancel_card(LAN, card, idempotency_key="cx")
    assert fake.status[card.vendor_ref] == "DISABLED"
    body = _event("ctx-9", card.vendor_ref, "1.00")
    out = await adapter.handle_webhook(
        LAN, body, _signed(body, "/transactions/authorizations", clock)
    )
    assert json.loads(out.body)["status"] == "REJECTED"
