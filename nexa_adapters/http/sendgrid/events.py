"""SendGrid's signed Event Webhook: verify, then read delivery receipts.

SendGrid signs ``timestamp + raw body`` with ECDSA over P-256 and SHA-256; the signature
(DER, base64) travels in ``X-Twilio-Email-Event-Webhook-Signature`` and the timestamp in
``X-Twilio-Email-Event-Webhook-Timestamp``. The verification key is the tenant's public
key shown in SendGrid's Mail Settings (base64 DER ``SubjectPublicKeyInfo``, or PEM). The
signature is checked before a single event is read; a timestamp further than the
tolerance from now is refused too (a replayed delivery).

Events carry Nexa's ``custom_args`` at their top level, so ``nexa_dedup_key`` names the
notification. Delivery events change the notification; engagement and account events are
acknowledged and ignored (``status`` None).
"""

from __future__ import annotations

import base64
import binascii
import logging
from collections.abc import Mapping
from datetime import datetime, timedelta

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_der_public_key, load_pem_public_key

from nexa_adapters.http._inbound import (
    MAX_BODY_BYTES,
    DeliveryReceipt,
    check_body_size,
    check_fresh,
    decode_json,
    header,
)
from nexa_adapters.webhooks import TOLERANCE
from nexa_core.errors import WebhookVerificationError
from nexa_core.model import NotificationStatus

__all__ = [
    "EVENTS",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "load_public_key",
    "read_events",
    "verify_event_webhook",
]

log = logging.getLogger("nexa.partners")

SIGNATURE_HEADER = "X-Twilio-Email-Event-Webhook-Signature"
TIMESTAMP_HEADER = "X-Twilio-Email-Event-Webhook-Timestamp"

#: every event the Event Webhook reference documents → what it does to the notification
EVENTS: Mapping[str, NotificationStatus | None] = {
    # delivery events
    "processed": None,  # accepted by SendGrid; nothing to record yet
    "deferred": None,  # SendGrid retries by itself
    "delivered": NotificationStatus.DELIVERED,
    "bounce": NotificationStatus.BOUNCED,  # type "bounce" or "blocked"
    "dropped": NotificationStatus.BOUNCED,  # never sent: the next channel is tried
    # engagement events
    "open": None,
    "click": None,
    "spamreport": None,
    "unsubscribe": None,
    "group_unsubscribe": None,
    "group_resubscribe": None,
    # account events
    "account_status_change": None,
}

_VENDOR = "sendgrid"


def load_public_key(value: str) -> ec.EllipticCurvePublicKey:
    """The tenant's verification key (base64 DER as SendGrid shows it, or PEM); P-256 only."""
    text = value.strip()
    try:
        if text.startswith("-----BEGIN"):
            key = load_pem_public_key(text.encode())
        else:
            key = load_der_public_key(base64.b64decode(text, validate=True))
    except (ValueError, binascii.Error, UnsupportedAlgorithm):
        raise WebhookVerificationError(
            "sendgrid verification key is not a public key", vendor=_VENDOR
        ) from None
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
        raise WebhookVerificationError(
            "sendgrid verification key is not an ECDSA P-256 key", vendor=_VENDOR
        )
    return key


def verify_event_webhook(
    public_key: str | ec.EllipticCurvePublicKey,
    headers: Mapping[str, str],
    body: bytes,
    *,
    now: datetime | None = None,
    tolerance: timedelta = TOLERANCE,
    max_bytes: int = MAX_BODY_BYTES,
) -> None:
    """Raise :class:`WebhookVerificationError` unless SendGrid signed exactly ``body``."""
    check_body_size(body, _VENDOR, max_bytes=max_bytes)
    signature, timestamp = header(headers, SIGNATURE_HEADER), header(headers, TIMESTAMP_HEADER)
    if not signature or not timestamp:
        raise WebhookVerificationError("missing SendGrid Event Webhook signature headers")
    check_fresh(timestamp, _VENDOR, now=now, tolerance=tolerance)
    key = load_public_key(public_key) if isinstance(public_key, str) else public_key
    try:
        der = base64.b64decode(signature.strip(), validate=True)
        key.verify(der, timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, binascii.Error, ValueError):
        raise WebhookVerificationError(
            "sendgrid Event Webhook signature does not match", vendor=_VENDOR
        ) from None


def read_events(body: bytes) -> list[DeliveryReceipt]:
    """The receipts of a verified batch (call :func:`verify_event_webhook` first)."""
    events = decode_json(body, _VENDOR)
    if not isinstance(events, list):
        raise WebhookVerificationError("sendgrid Event Webhook body is not a list of events")
    out: list[DeliveryReceipt] = []
    for event in events:
        if (
            not isinstance(event, dict)
            or not isinstance(event.get("event"), str)
            or not isinstance(event.get("sg_event_id"), str)
            or not event["sg_event_id"]
        ):
            raise WebhookVerificationError(
                "sendgrid event without 'event' and 'sg_event_id'", vendor=_VENDOR
            )
        name = event["event"]
        if name not in EVENTS:
            log.info("sendgrid event %r is not documented; acknowledged and ignored", name)
        key = event.get("nexa_dedup_key")
        # category labels only ("blocked", "Bounced Address"): never the SMTP response,
        # which can quote the recipient's address
        label = event.get("type") if name == "bounce" else event.get("reason")
        reason = str(label) if name in ("bounce", "dropped") and label else ""
        out.append(
            DeliveryReceipt(
                vendor=_VENDOR,
                event_id=event["sg_event_id"],
                message_id=str(event["sg_message_id"]) if event.get("sg_message_id") else None,
                dedup_key=key if isinstance(key, str) and key else None,
                status=EVENTS.get(name),
                vendor_event=name,
                reason=reason[:200],
            )
        )
    return out
