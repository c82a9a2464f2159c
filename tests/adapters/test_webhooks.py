"""Standard Webhooks and Nexa webhook signatures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from nexa_adapters.webhooks import (
    NexaWebhook,
    StandardWebhook,
    build_nexa_webhook,
    hmac_sha256_matches,
)
from nexa_core.errors import WebhookVerificationError
from nexa_core.urn import Urn

# The example published with the Standard Webhooks specification.
SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SPEC_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
SPEC_TS = 1614265330
SPEC_BODY = b'{"test": 2432232314}'
SPEC_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
SPEC_NOW = datetime.fromtimestamp(SPEC_TS, UTC)


def _spec_headers(**override: str) -> dict[str, str]:
    h = {
        "webhook-id": SPEC_ID,
        "webhook-timestamp": str(SPEC_TS),
        "webhook-signature": SPEC_SIGNATURE,
    }
    h.update(override)
    return h


def test_standard_webhook_signs_the_spec_example_exactly() -> None:
    assert StandardWebhook(SPEC_SECRET).sign(SPEC_ID, SPEC_TS, SPEC_BODY) == SPEC_SIGNATURE


def test_standard_webhook_accepts_the_spec_example() -> None:
    StandardWebhook(SPEC_SECRET).verify(SPEC_BODY, _spec_headers(), now=SPEC_NOW)


def test_standard_webhook_accepts_the_secret_without_prefix_and_mixed_case_headers() -> None:
    headers = {k.title(): v for k, v in _spec_headers().items()}
    StandardWebhook(SPEC_SECRET.removeprefix("whsec_")).verify(SPEC_BODY, headers, now=SPEC_NOW)


def test_standard_webhook_accepts_any_one_of_several_signatures() -> None:
    rotated = f"v1,bm90IGEgcmVhbCBzaWduYXR1cmUgYXQgYWxsIQ== v2,abc {SPEC_SIGNATURE}"
    StandardWebhook(SPEC_SECRET).verify(
        SPEC_BODY, _spec_headers(**{"webhook-signature": rotated}), now=SPEC_NOW
    )


@pytest.mark.parametrize(
    ("body", "headers", "secret", "now"),
    [
        pytest.param(b'{"test": 2432232315}', {}, SPEC_SECRET, SPEC_NOW, id="tampered-body"),
        pytest.param(
            SPEC_BODY,
            {"webhook-id": "msg_other"},
            SPEC_SECRET,
            SPEC_NOW,
            id="tampered-id",
        ),
        pytest.param(
            SPEC_BODY, {}, "whsec_" + "QUJDREVGR0hJSktMTU5PUA==", SPEC_NOW, id="wrong-secret"
        ),
        pytest.param(
            SPEC_BODY, {}, SPEC_SECRET, SPEC_NOW + timedelta(seconds=301), id="stale-timestamp"
        ),
        pytest.param(
            SPEC_BODY, {}, SPEC_SECRET, SPEC_NOW - timedelta(seconds=301), id="future-timestamp"
        ),
        pytest.param(
            SPEC_BODY,
            {"webhook-signature": "v2," + SPEC_SIGNATURE[3:]},
            SPEC_SECRET,
            SPEC_NOW,
            id="unknown-version",
        ),
        pytest.param(
            SPEC_BODY, {"webhook-timestamp": "soon"}, SPEC_SECRET, SPEC_NOW, id="bad-timestamp"
        ),
    ],
)
def test_standard_webhook_rejects(
    body: bytes, headers: dict[str, str], secret: str, now: datetime
) -> None:
    with pytest.raises(WebhookVerificationError):
        StandardWebhook(secret).verify(body, _spec_headers(**headers), now=now)


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_standard_webhook_rejects_missing_headers(missing: str) -> None:
    headers = _spec_headers()
    del headers[missing]
    with pytest.raises(WebhookVerificationError, match="missing"):
        StandardWebhook(SPEC_SECRET).verify(SPEC_BODY, headers, now=SPEC_NOW)


def test_standard_webhook_rejects_a_secret_that_is_not_base64() -> None:
    with pytest.raises(WebhookVerificationError):
        StandardWebhook("whsec_not*base64")


def test_standard_webhook_repr_and_errors_never_show_the_secret() -> None:
    hook = StandardWebhook(SPEC_SECRET)
    assert "MfKQ" not in repr(hook)
    with pytest.raises(WebhookVerificationError) as info:
        hook.verify(b"x", _spec_headers(), now=SPEC_NOW)
    assert "MfKQ" not in str(info.value) and "g0hM" not in repr(info.value)


def test_standard_webhook_headers_round_trip() -> None:
    hook = StandardWebhook(SPEC_SECRET)
    now = datetime(2026, 5, 5, 12, 0, tzinfo=UTC)
    headers = hook.headers("msg_1", now, b"{}")
    hook.verify(b"{}", headers, now=now + timedelta(seconds=299))


NOW = datetime(2026, 5, 5, 12, 0, tzinfo=UTC)
EVENT = Urn("event", "e-42")
LAN = Urn("airline", "LAN")


def test_nexa_webhook_signature_is_base64_hmac_of_timestamp_dot_body() -> None:
    import base64
    import hashlib
    import hmac

    body = b'{"type":"reservation.confirmed"}'
    ts = int(NOW.timestamp())
    expected = base64.b64encode(
        hmac.new(b"s3cret", f"{ts}.".encode() + body, hashlib.sha256).digest()
    ).decode()
    assert NexaWebhook("s3cret").sign(NOW, body) == f"sha256={expected}"


def test_build_nexa_webhook_carries_every_header_and_verifies() -> None:
    out = build_nexa_webhook(
        "s3cret",
        "https://partner.example/hooks",
        b'{"a":1}',
        event_urn=EVENT,
        tenant=LAN,
        timestamp=NOW,
        correlation_urn=Urn("correlation", "abc123"),
    )
    assert out.headers["X-Nexa-Event-Urn"] == "urn:event:e-42"
    assert out.headers["X-Nexa-Tenant"] == "urn:airline:LAN"
    assert out.headers["X-Nexa-Signature-Timestamp"] == str(int(NOW.timestamp()))
    assert out.headers["X-Nexa-Signature"].startswith("sha256=")
    verified = NexaWebhook("s3cret").verify(out.body, out.headers, now=NOW)
    assert verified.event_urn == "urn:event:e-42"
    assert verified.tenant == "urn:airline:LAN"
    assert verified.correlation_urn == "urn:correlation:abc123"


@pytest.mark.parametrize(
    ("secret", "body", "now"),
    [
        pytest.param("other", b'{"a":1}', NOW, id="wrong-secret"),
        pytest.param("s3cret", b'{"a":2}', NOW, id="tampered-body"),
        pytest.param("s3cret", b'{"a":1}', NOW + timedelta(seconds=301), id="stale"),
        pytest.param("s3cret", b'{"a":1}', NOW - timedelta(seconds=301), id="future"),
    ],
)
def test_nexa_webhook_rejects(secret: str, body: bytes, now: datetime) -> None:
    out = build_nexa_webhook(
        "s3cret", "https://p.example/h", b'{"a":1}', event_urn=EVENT, tenant=LAN, timestamp=NOW
    )
    with pytest.raises(WebhookVerificationError):
        NexaWebhook(secret).verify(body, out.headers, now=now)


def test_nexa_webhook_rejects_missing_event_urn() -> None:
    headers = NexaWebhook("s").headers(event_urn=EVENT, tenant=LAN, timestamp=NOW, body=b"{}")
    del headers["X-Nexa-Event-Urn"]
    with pytest.raises(WebhookVerificationError, match="missing"):
        NexaWebhook("s").verify(b"{}", headers, now=NOW)


def test_nexa_webhook_accepts_exactly_300_seconds_of_skew() -> None:
    headers = NexaWebhook("s").headers(event_urn=EVENT, tenant=LAN, timestamp=NOW, body=b"{}")
    NexaWebhook("s").verify(b"{}", headers, now=NOW + timedelta(seconds=300))
    NexaWebhook("s").verify(b"{}", headers, now=NOW - timedelta(seconds=300))


def test_hmac_sha256_matches_hex_and_base64() -> None:
    import hashlib
    import hmac

    d = hmac.new(b"k", b"m", hashlib.sha256)
    assert hmac_sha256_matches(b"k", b"m", d.hexdigest(), encoding="hex")
    assert not hmac_sha256_matches(b"k", b"m2", d.hexdigest(), encoding="hex")
