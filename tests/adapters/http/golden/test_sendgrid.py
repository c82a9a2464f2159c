"""SendGrid on the wire: the Signed Event Webhook with SendGrid's own test vectors, the
documented events, and the published Mail Send schema.

Facts and sources: ``golden/sendgrid/SOURCE.md``.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import attrs
import pytest
import respx
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from nexa_adapters.http.sendgrid import EVENTS, SendGridEmail, read_events, verify_event_webhook
from nexa_adapters.http.sendgrid.events import SIGNATURE_HEADER, TIMESTAMP_HEADER
from nexa_core.errors import WebhookVerificationError
from nexa_core.model import Channel, NotificationStatus
from nexa_core.runtime import FixedClock
from nexa_core.testing.providers import LAN, sample_message
from tests.adapters.http.conftest import adapter_options
from tests.adapters.http.golden._golden import load, raw, validate
from tests.adapters.http.test_messaging import SG_ENV, FakeSendGrid

V = "sendgrid"
VEC = load(V, "event_webhook.vectors.json")
BODY = raw(V, VEC["body_file"])
SIGNED_AT = datetime.fromtimestamp(int(VEC["timestamp"]), UTC)


def _headers(signature: str = VEC["signature"], timestamp: str = VEC["timestamp"]) -> dict:
    return {SIGNATURE_HEADER: signature, TIMESTAMP_HEADER: timestamp}


def test_sendgrids_own_vector_verifies() -> None:
    verify_event_webhook(VEC["public_key"], _headers(), BODY, now=SIGNED_AT)
    # header names are case-insensitive on the wire
    lower = {k.lower(): v for k, v in _headers().items()}
    verify_event_webhook(VEC["public_key"], lower, BODY, now=SIGNED_AT + timedelta(seconds=30))


@pytest.mark.parametrize(
    ("key", "headers", "body"),
    [
        pytest.param(VEC["other_public_key"], _headers(), BODY, id="another-tenant's-key"),
        pytest.param(VEC["public_key"], _headers(VEC["other_signature"]), BODY, id="bad-signature"),
        pytest.param(VEC["public_key"], _headers(), b"payload", id="tampered-body"),
        pytest.param(VEC["public_key"], _headers(), BODY.rstrip(), id="trailing-crlf-dropped"),
        pytest.param(VEC["public_key"], _headers(timestamp="timestamp"), BODY, id="bad-timestamp"),
        pytest.param(VEC["public_key"], {TIMESTAMP_HEADER: VEC["timestamp"]}, BODY, id="unsigned"),
        pytest.param(VEC["public_key"], _headers("not base64!"), BODY, id="garbled-signature"),
        pytest.param("bm90IGEga2V5", _headers(), BODY, id="not-a-key"),
    ],
)
def test_anything_else_is_rejected(key: str, headers: dict, body: bytes) -> None:
    with pytest.raises(WebhookVerificationError):
        verify_event_webhook(key, headers, body, now=SIGNED_AT)


def test_a_replayed_delivery_outside_the_tolerance_is_rejected() -> None:
    with pytest.raises(WebhookVerificationError, match="outside"):
        verify_event_webhook(
            VEC["public_key"], _headers(), BODY, now=SIGNED_AT + timedelta(hours=1)
        )


def test_the_body_is_capped_before_any_cryptography() -> None:
    with pytest.raises(WebhookVerificationError, match="larger"):
        verify_event_webhook(VEC["public_key"], _headers(), BODY, now=SIGNED_AT, max_bytes=64)


def test_only_p256_keys_are_accepted() -> None:
    other = ec.generate_private_key(ec.SECP384R1()).public_key()
    pem = other.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
    with pytest.raises(WebhookVerificationError, match="P-256"):
        verify_event_webhook(pem, _headers(), BODY, now=SIGNED_AT)


def test_the_vector_batch_reads_as_a_bounce() -> None:
    (receipt,) = read_events(BODY)
    assert receipt.status is NotificationStatus.BOUNCED and receipt.vendor_event == "dropped"
    assert receipt.reason == "Bounced Address" and receipt.dedup_key is None
    assert receipt.event_id == "ZHJvcC0xMDk5NDkxOS1MUnpYbF9OSFN0T0doUTRrb2ZTbV9BLTA"


def test_every_documented_event_is_mapped_or_acknowledged() -> None:
    batch = load(V, "events.example.json")
    assert {e["event"] for e in batch} == set(EVENTS)
    receipts = {r.vendor_event: r for r in read_events(json.dumps(batch).encode())}
    assert receipts["delivered"].status is NotificationStatus.DELIVERED
    assert receipts["bounce"].status is NotificationStatus.BOUNCED
    assert receipts["bounce"].reason == "bounce"  # the category, never the SMTP text
    assert {n for n, r in receipts.items() if r.status is None} == {
        "processed",
        "deferred",
        "open",
        "click",
        "spamreport",
        "unsubscribe",
        "group_unsubscribe",
        "group_resubscribe",
        "account_status_change",
    }


@pytest.mark.parametrize(
    "body",
    [b'{"event": "delivered"}', b'[{"event": "delivered"}]', b"[1]", b'[{"a": NaN}]'],
)
def test_a_batch_that_is_not_events_is_rejected(body: bytes) -> None:
    with pytest.raises(WebhookVerificationError):
        read_events(body)


def _tenant_key() -> tuple[ec.EllipticCurvePrivateKey, str]:
    private = ec.generate_private_key(ec.SECP256R1())
    der = private.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private, base64.b64encode(der).decode()


def _signed(private: ec.EllipticCurvePrivateKey, body: bytes, ts: str) -> dict[str, str]:
    sig = private.sign(ts.encode() + body, ec.ECDSA(hashes.SHA256()))
    return _headers(base64.b64encode(sig).decode(), ts)


@pytest.mark.anyio
async def test_the_adapter_verifies_with_the_tenants_own_key() -> None:
    private, public = _tenant_key()
    clock = FixedClock()
    env = {**SG_ENV, "NEXA_SECRET__LAN__SENDGRID__EVENT_WEBHOOK_PUBLIC_KEY": public}
    adapter = SendGridEmail(**adapter_options(env, clock=clock))
    body = json.dumps(
        [
            {
                "email": "ana@example.com",
                "event": "delivered",
                "sg_event_id": "ev-1",
                "sg_message_id": "W8nFxk2uQ1mZ0Ld1.filter0001",
                "timestamp": int(clock.now().timestamp()),
                "nexa_dedup_key": "notif:k-1",
            }
        ]
    ).encode()
    ts = str(int(clock.now().timestamp()))
    (receipt,) = await adapter.verify_events(LAN, _signed(private, body, ts), body)
    assert (receipt.dedup_key, receipt.status) == ("notif:k-1", NotificationStatus.DELIVERED)
    # SendGrid's published vector was signed with another key: refused for this tenant
    with pytest.raises(WebhookVerificationError):
        await adapter.verify_events(LAN, _headers(), BODY, now=SIGNED_AT)


@pytest.fixture
def sendgrid() -> Iterator[FakeSendGrid]:
    with respx.mock(assert_all_called=False) as mock:
        yield FakeSendGrid(mock)


@pytest.mark.anyio
async def test_the_mail_body_fits_the_published_schema(sendgrid: FakeSendGrid) -> None:
    message = attrs.evolve(
        sample_message(Channel.EMAIL, "k-2"),
        html="<p>Your room</p>",
        attachments=(("voucher.pdf", "application/pdf", b"%PDF-1.7"),),
    )
    await SendGridEmail(**adapter_options(SG_ENV)).send(message)
    (body,) = sendgrid.sent
    validate(V, "mail_send.request.schema.json", body)
    assert body["personalizations"][0]["custom_args"] == {"nexa_dedup_key": "k-2"}
