"""Pomelo on the wire, held against Pomelo's published documentation; the card ledger in
the operational store.

Facts and sources: ``golden/pomelo/SOURCE.md`` (what is modelled is listed there).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
import respx

from nexa_adapters.http.pomelo import CARD_STATUSES, PomeloCards, pomelo_signature
from nexa_adapters.memory import MemoryStore
from nexa_adapters.sql import SqlStore
from nexa_core.errors import MalformedResponseError, WebhookVerificationError
from nexa_core.model import CardStatus, Money
from nexa_core.runtime import FixedClock
from nexa_core.testing.providers import LAN, sample_card_request
from nexa_core.urn import Urn
from tests.adapters.http.conftest import adapter_options
from tests.adapters.http.golden._golden import load
from tests.adapters.http.test_pomelo import BASE, ENV, SECRET, FakePomelo, _event

V = "pomelo"
PUBLISHED = load(V, "published.json")
AUTH = "/transactions/authorizations"
OTHER = Urn("airline", "AAL")


class RecordingPomelo(FakePomelo):
    def __init__(self, mock: respx.MockRouter) -> None:
        self.created: list[httpx.Request] = []
        self.patched: list[dict[str, Any]] = []
        self.next_status = "ACTIVE"
        super().__init__(mock)

    def create(self, request: httpx.Request) -> httpx.Response:
        self.created.append(request)
        answer = json.loads(super().create(request).content)
        answer["data"]["status"] = self.next_status
        return httpx.Response(200, json=answer)

    def patch(self, request: httpx.Request, cid: str) -> httpx.Response:
        self.patched.append(json.loads(request.content))
        return super().patch(request, cid)


@pytest.fixture
def pomelo() -> Iterator[RecordingPomelo]:
    with respx.mock(base_url=BASE, assert_all_called=False) as mock:
        yield RecordingPomelo(mock)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


def _adapter(clock: FixedClock, **extra: Any) -> PomeloCards:
    return PomeloCards(**adapter_options(ENV, clock=clock, **extra))


def _signed(body: bytes, endpoint: str, clock: FixedClock, skew: int = 0) -> dict[str, str]:
    ts = str(int(clock.now().timestamp()) + skew)
    return {
        "x-api-key": "pm-key",
        "x-endpoint": endpoint,
        "x-timestamp": ts,
        "x-signature": pomelo_signature(SECRET, ts, endpoint, body),
    }


def test_the_signature_is_the_documented_recipe() -> None:
    # HMAC-SHA256 with the api-secret over timestamp + endpoint + body (UTF-8)
    body, ts = b'{"a":1}', "1700000000"
    digest = hmac.new(SECRET.encode(), (ts + AUTH).encode() + body, hashlib.sha256).digest()
    assert pomelo_signature(SECRET, ts, AUTH, body) == (
        "hmac-sha256 " + base64.b64encode(digest).decode()
    )


@pytest.mark.anyio
async def test_create_card_follows_the_published_request(
    pomelo: RecordingPomelo, clock: FixedClock
) -> None:
    await _adapter(clock).issue_card(sample_card_request("card:g1"))
    (create,) = pomelo.created
    spec = PUBLISHED["create_card"]
    assert all(h in create.headers for h in spec["headers"])
    assert set(spec["required"]) <= set(json.loads(create.content))


@pytest.mark.anyio
async def test_the_published_create_example_is_understood(clock: FixedClock) -> None:
    example = PUBLISHED["create_card"]["response_example"]
    with respx.mock(base_url=BASE, assert_all_called=False) as mock:
        FakePomelo(mock)
        mock.post("/cards/v1/").respond(200, json=example)
        card = await _adapter(clock).issue_card(sample_card_request("card:ex"))
    assert card.vendor_ref == example["data"]["id"]


@pytest.mark.anyio
async def test_cancel_uses_a_published_status_reason(
    pomelo: RecordingPomelo, clock: FixedClock
) -> None:
    adapter = _adapter(clock)
    card = await adapter.issue_card(sample_card_request("card:c"))
    await adapter.cancel_card(LAN, card, idempotency_key="c")
    (patch,) = pomelo.patched
    assert patch["status_reason"] in PUBLISHED["update_card"]["status_reasons"][patch["status"]]


def test_every_card_status_is_mapped() -> None:
    statuses = PUBLISHED["card_statuses"]
    assert set(CARD_STATUSES) == set(statuses["documented"]) | set(statuses["modelled"])
    assert CARD_STATUSES["DISABLED"] is CardStatus.CANCELLED


@pytest.mark.anyio
@pytest.mark.parametrize("status", ["BLOCKED", "EMERGENCY"])
async def test_blocked_and_emergency_cards_decline_authorizations(
    pomelo: RecordingPomelo, clock: FixedClock, status: str
) -> None:
    pomelo.next_status = status
    adapter = _adapter(clock)
    card = await adapter.issue_card(sample_card_request(f"card:{status}"))
    await adapter.load(LAN, card, Money(Decimal("30"), "USD"), idempotency_key="l")
    body = _event("ctx-1", card.vendor_ref, "5.00")
    out = await adapter.handle_webhook(LAN, body, _signed(body, AUTH, clock))
    assert json.loads(out.body)["status_detail"] == "INVALID_CARD"


@pytest.mark.anyio
async def test_an_unknown_card_status_is_a_malformed_response(
    pomelo: RecordingPomelo, clock: FixedClock
) -> None:
    pomelo.next_status = "SLEEPING"
    with pytest.raises(MalformedResponseError) as err:
        await _adapter(clock).issue_card(sample_card_request("card:z"))
    assert err.value.context["fields"] == "data.status"


@pytest.mark.anyio
async def test_an_authorization_signature_expires_after_a_minute(
    pomelo: RecordingPomelo, clock: FixedClock
) -> None:
    adapter = _adapter(clock)
    card = await adapter.issue_card(sample_card_request("card:t"))
    await adapter.load(LAN, card, Money(Decimal("30"), "USD"), idempotency_key="l")
    assert PUBLISHED["webhook_signature"]["authorization_expiry_seconds"] == 60
    body = _event("ctx-1", card.vendor_ref, "5.00")
    with pytest.raises(WebhookVerificationError, match="outside 60 s"):
        await adapter.handle_webhook(LAN, body, _signed(body, AUTH, clock, skew=-61))
    settle = _event("ctx-s", card.vendor_ref, "5.00", "PURCHASE", "ctx-1")
    ep = "/transactions/adjustments/DEBIT"
    out = await adapter.handle_webhook(LAN, settle, _signed(settle, ep, clock, skew=-61))
    assert out.event == "settlement"


@pytest.mark.anyio
async def test_balances_survive_a_restart_and_stay_with_their_tenant(
    pomelo: RecordingPomelo, clock: FixedClock, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'nexa.db'}"
    store = SqlStore.from_url(url)
    first = _adapter(clock, accounts=store.card_accounts)
    card = await first.issue_card(sample_card_request("card:r"))
    await first.load(LAN, card, Money(Decimal("30"), "USD"), idempotency_key="load:1")
    body = _event("ctx-1", card.vendor_ref, "12.50")
    await first.handle_webhook(LAN, body, _signed(body, AUTH, clock))
    await store.close()
    # a new process: a new store on the same database, a new adapter
    again = SqlStore.from_url(url)
    env = {**ENV, "NEXA_SECRET__AAL__POMELO__API_SECRET": SECRET}
    second = PomeloCards(**adapter_options(env, clock=clock, accounts=again.card_accounts))
    assert await second.ledger.available(LAN, card.vendor_ref, clock.now()) == Decimal("17.50")
    # the redelivered authorization is recognised after the restart too
    out = await second.handle_webhook(LAN, body, _signed(body, AUTH, clock))
    assert out.event == "duplicate"
    # another airline cannot spend (or even see) the card
    stranger = await second.handle_webhook(OTHER, body, _signed(body, AUTH, clock))
    assert json.loads(stranger.body)["status_detail"] == "CARD_NOT_FOUND"
    await again.close()


@pytest.mark.anyio
async def test_concurrent_authorizations_never_overspend(
    pomelo: RecordingPomelo, clock: FixedClock
) -> None:
    # two workers (no shared lock) answering from the same store
    accounts = MemoryStore().card_accounts
    workers = [_adapter(clock, accounts=accounts), _adapter(clock, accounts=accounts)]
    adapter = workers[0]
    card = await adapter.issue_card(sample_card_request("card:cc"))
    await adapter.load(LAN, card, Money(Decimal("30"), "USD"), idempotency_key="l")
    results: list[str] = []

    async def authorize(n: int) -> None:
        body = _event(f"ctx-{n}", card.vendor_ref, "5.00")
        out = await workers[n % 2].handle_webhook(LAN, body, _signed(body, AUTH, clock))
        results.append(json.loads(out.body)["status"])

    async with anyio.create_task_group() as tg:
        for n in range(10):
            tg.start_soon(authorize, n)
    assert results.count("APPROVED") == 6 and results.count("REJECTED") == 4
    assert await adapter.ledger.available(LAN, card.vendor_ref, clock.now()) == 0
