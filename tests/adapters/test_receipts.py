"""The receipt desk: verified receipts are applied once; unverifiable ones are rejected,
audited and change nothing."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import pytest
import respx
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from nexa_adapters.http.sendgrid import SendGridEmail
from nexa_adapters.http.sendgrid.events import SIGNATURE_HEADER, TIMESTAMP_HEADER
from nexa_adapters.http.uber import UberRides, uber_signature
from nexa_adapters.memory import MemoryStore
from nexa_adapters.receipts import ReceiptDesk
from nexa_core.errors import ConfigurationError, InvalidInputError, WebhookVerificationError
from nexa_core.model import NotificationStatus, TransferStatus
from nexa_core.ports import AuditQuery
from nexa_core.runtime import FixedClock, UuidIds
from nexa_core.tenancy import TenantContext
from nexa_core.testing.providers import LAN, sample_transfer_request
from nexa_core.testing.samples import sample
from tests.adapters.http.conftest import adapter_options
from tests.adapters.http.test_messaging import SG_ENV
from tests.adapters.http.test_transport import UBER_ENV, FakeUber

CLOCK = FixedClock()
TENANT = TenantContext.system(LAN)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _public(key: ec.EllipticCurvePrivateKey) -> str:
    der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(der).decode()


def _sendgrid_batch(key: ec.EllipticCurvePrivateKey, *events: dict[str, Any]) -> Any:
    body = json.dumps(list(events)).encode()
    ts = str(int(CLOCK.now().timestamp()))
    sig = base64.b64encode(key.sign(ts.encode() + body, ec.ECDSA(hashes.SHA256()))).decode()
    return {SIGNATURE_HEADER: sig, TIMESTAMP_HEADER: ts}, body


@pytest.fixture
def uber() -> Iterator[FakeUber]:
    with respx.mock(assert_all_called=False) as mock:
        yield FakeUber(mock)


async def _desk(key: ec.EllipticCurvePrivateKey) -> tuple[ReceiptDesk, MemoryStore]:
    store = MemoryStore(clock=CLOCK.now)
    env = {**SG_ENV, "NEXA_SECRET__LAN__SENDGRID__EVENT_WEBHOOK_PUBLIC_KEY": _public(key)}
    env.update(UBER_ENV)
    desk = ReceiptDesk(
        store=store,
        clock=CLOCK,
        ids=UuidIds(),
        notifications={"sendgrid": SendGridEmail(**adapter_options(env, clock=CLOCK))},
        transport={"uber": UberRides(**adapter_options(env, clock=CLOCK))},
    )
    return desk, store


def _event(kind: str, event_id: str, dedup_key: str) -> dict[str, Any]:
    return {"event": kind, "sg_event_id": event_id, "nexa_dedup_key": dedup_key, "timestamp": 1}


@pytest.mark.anyio
async def test_a_verified_bounce_is_applied_once(key: ec.EllipticCurvePrivateKey) -> None:
    desk, store = await _desk(key)
    note = await store.notifications.add(TENANT, sample("notifications"))
    headers, body = _sendgrid_batch(
        key, _event("bounce", "ev-1", note.dedup_key), _event("open", "ev-2", note.dedup_key)
    )
    outcome = await desk.receive(LAN, "sendgrid", headers, body)
    assert (outcome.events, outcome.applied, outcome.acknowledged) == (2, 1, 1)
    assert (await store.notifications.get(TENANT, note.urn)).status is NotificationStatus.BOUNCED
    again = await desk.receive(LAN, "sendgrid", headers, body)  # a redelivery
    assert again.applied == 1  # idempotent at the care service: nothing new happened
    bounced = await store.audit.query(TENANT, AuditQuery(action="notification.bounced"))
    assert len(bounced) == 1


@pytest.mark.anyio
async def test_an_unverifiable_receipt_is_rejected_audited_and_changes_nothing(
    key: ec.EllipticCurvePrivateKey,
) -> None:
    desk, store = await _desk(key)
    note = await store.notifications.add(TENANT, sample("notifications"))
    headers, body = _sendgrid_batch(key, _event("bounce", "ev-1", note.dedup_key))
    forged = body.replace(b"bounce", b"delivered")
    with pytest.raises(WebhookVerificationError):
        await desk.receive(LAN, "sendgrid", headers, forged)
    assert (await store.notifications.get(TENANT, note.urn)).status is note.status
    (entry,) = await store.audit.query(TENANT, AuditQuery(action="webhook.rejected"))
    assert entry.after["vendor"] == "sendgrid" and entry.after["bytes"] == len(forged)
    assert "delivered" not in json.dumps(entry.after)  # the body itself is never kept
    assert await store.audit.query(TENANT, AuditQuery(action="notification.delivered")) == []


@pytest.mark.anyio
async def test_ride_states_reach_the_transfer(
    key: ec.EllipticCurvePrivateKey, uber: FakeUber
) -> None:
    desk, store = await _desk(key)
    transfer = await store.transfers.add(TENANT, sample("transfers"))
    rides = desk.transport["uber"]
    dispatched = await rides.dispatch(sample_transfer_request(transfer.urn.id))
    body = json.dumps(
        {
            "event_id": "e-1",
            "event_time": 1777996800,
            "event_type": "guests.trips.status_changed",
            "meta": {"resource_id": dispatched.vendor_ref, "status": "accepted"},
        }
    ).encode()
    headers = {"X-Uber-Signature": uber_signature("ub-signing-key", body)}
    outcome = await desk.receive(LAN, "uber", headers, body)
    assert outcome.applied == 1
    assert (await store.transfers.get(TENANT, transfer.urn)).status is TransferStatus.DISPATCHED
    with pytest.raises(WebhookVerificationError):
        await desk.receive(LAN, "uber", {"X-Uber-Signature": "00"}, body)
    assert len(await store.audit.query(TENANT, AuditQuery(action="webhook.rejected"))) == 1


@pytest.mark.anyio
async def test_unknown_or_unconfigured_vendors_are_refused(key: ec.EllipticCurvePrivateKey) -> None:
    desk, _ = await _desk(key)
    with pytest.raises(InvalidInputError):
        await desk.receive(LAN, "carrier-pigeon", {}, b"")
    with pytest.raises(ConfigurationError):
        await desk.receive(LAN, "twilio", {}, b"")
