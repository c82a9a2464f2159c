"""Signed webhooks: the Standard Webhooks scheme and Nexa's own ``X-Nexa-Signature`` scheme.

Inbound partners that follow `Standard Webhooks <https://www.standardwebhooks.com>`_ are
verified with :class:`StandardWebhook`; webhooks Nexa sends to partners are signed (and
verified by receivers) with :class:`NexaWebhook`; :func:`build_nexa_webhook` builds a
complete outbound request. Every check uses a constant-time compare and rejects a
timestamp more than :data:`TOLERANCE` (300 s) away from ``now`` in either direction.
Failures raise :class:`~nexa_core.errors.WebhookVerificationError`; the message never
contains the secret or the expected signature.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

import attrs

from nexa_core.errors import WebhookVerificationError
from nexa_core.urn import Urn

__all__ = [
    "TOLERANCE",
    "NexaWebhook",
    "OutboundWebhook",
    "StandardWebhook",
    "VerifiedNexaWebhook",
    "build_nexa_webhook",
    "hmac_sha256_matches",
]

#: Largest accepted distance between a webhook's timestamp and our clock.
TOLERANCE = timedelta(seconds=300)

_SECRET_PREFIX = "whsec_"


def _lower(headers: Mapping[str, str]) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items()}


def _check_timestamp(raw: str, now: datetime | None, tolerance: timedelta) -> int:
    try:
        ts = int(raw)
    except (TypeError, ValueError):
        raise WebhookVerificationError("webhook timestamp is not an integer") from None
    current = now or datetime.now(UTC)
    try:
        sent = datetime.fromtimestamp(ts, UTC)
    except (OverflowError, OSError, ValueError):
        raise WebhookVerificationError("webhook timestamp is out of range") from None
    if sent < current - tolerance:
        raise WebhookVerificationError("webhook timestamp is too old", timestamp=ts)
    if sent > current + tolerance:
        raise WebhookVerificationError("webhook timestamp is in the future", timestamp=ts)
    return ts


def _unix(timestamp: datetime | int) -> int:
    return timestamp if isinstance(timestamp, int) else int(timestamp.timestamp())


def hmac_sha256_matches(key: bytes, message: bytes, signature: str, *, encoding: str) -> bool:
    """Constant-time check of a ``hex`` or ``base64`` HMAC-SHA256 ``signature``."""
    digest = hmac.new(key, message, hashlib.sha256).digest()
    expected = digest.hex() if encoding == "hex" else base64.b64encode(digest).decode()
    return hmac.compare_digest(expected.encode(), signature.strip().encode())


class StandardWebhook:
    """Standard Webhooks: ``webhook-id``, ``webhook-timestamp``, ``webhook-signature``.

    ``secret`` is the ``whsec_<base64>`` string (the prefix is optional) or raw key bytes.
    The signed content is ``"<id>.<timestamp>.<body>"``; the header carries one or more
    space-separated ``v1,<base64 HMAC-SHA256>`` entries (key rotation), one match suffices.
    """

    def __init__(self, secret: str | bytes, *, tolerance: timedelta = TOLERANCE) -> None:
        if isinstance(secret, bytes):
            key = secret
        else:
            raw = secret.removeprefix(_SECRET_PREFIX)
            try:
                key = base64.b64decode(raw, validate=True)
            except (binascii.Error, ValueError):
                raise WebhookVerificationError("webhook secret is not valid base64") from None
        if not key:
            raise WebhookVerificationError("webhook secret is empty")
        self._key = key
        self.tolerance = tolerance

    def __repr__(self) -> str:
        return "StandardWebhook(secret=<redacted>)"

    def _digest(self, msg_id: str, timestamp: int, body: bytes) -> str:
        content = f"{msg_id}.{timestamp}.".encode() + body
        return base64.b64encode(hmac.new(self._key, content, hashlib.sha256).digest()).decode()

    def sign(self, msg_id: str, timestamp: datetime | int, body: bytes | str) -> str:
        """The ``webhook-signature`` header value (``v1,<base64>``)."""
        data = body.encode() if isinstance(body, str) else body
        return f"v1,{self._digest(msg_id, _unix(timestamp), data)}"

    def headers(self, msg_id: str, timestamp: datetime | int, body: bytes | str) -> dict[str, str]:
        """All three headers for an outbound delivery."""
        return {
            "webhook-id": msg_id,
            "webhook-timestamp": str(_unix(timestamp)),
            "webhook-signature": self.sign(msg_id, timestamp, body),
        }

    def verify(
        self, body: bytes, headers: Mapping[str, str], *, now: datetime | None = None
    ) -> None:
        """Raise :class:`WebhookVerificationError` unless ``body`` is authentic and fresh."""
        h = _lower(headers)
        msg_id = h.get("webhook-id")
        ts_raw = h.get("webhook-timestamp")
        sig_header = h.get("webhook-signature")
        if not msg_id or not ts_raw or not sig_header:
            raise WebhookVerificationError("missing Standard Webhooks headers")
        ts = _check_timestamp(ts_raw, now, self.tolerance)
        expected = self._digest(msg_id, ts, body).encode()
        for entry in sig_header.split():
            version, _, sig = entry.partition(",")
            if version == "v1" and hmac.compare_digest(expected, sig.encode()):
                return
        raise WebhookVerificationError("no matching webhook signature", webhook_id=msg_id)


#: Header names of the Nexa scheme.
_SIG = "x-nexa-signature"
_TS = "x-nexa-signature-timestamp"
_EVENT = "x-nexa-event-urn"
_TENANT = "x-nexa-tenant"
_CORR = "x-nexa-correlation-urn"


@attrs.frozen
class OutboundWebhook:
    """A ready-to-send webhook request (POST ``url`` with ``headers`` and ``body``)."""

    url: str
    headers: Mapping[str, str]
    body: bytes
    event_urn: Urn


@attrs.frozen
class VerifiedNexaWebhook:
    """What a receiver learns from a verified Nexa webhook."""

    event_urn: str
    tenant: str
    correlation_urn: str | None
    timestamp: int


class NexaWebhook:
    """Nexa's scheme: ``X-Nexa-Signature: sha256=<base64 HMAC-SHA256("<ts>.<body>")>``.

    Headers: ``X-Nexa-Signature-Timestamp`` (unix seconds), ``X-Nexa-Event-Urn`` (the
    receiver's idempotency key), ``X-Nexa-Tenant`` (airline URN) and, when known,
    ``X-Nexa-Correlation-Urn``.
    """

    def __init__(self, secret: str | bytes, *, tolerance: timedelta = TOLERANCE) -> None:
        key = secret.encode() if isinstance(secret, str) else secret
        if not key:
            raise WebhookVerificationError("webhook secret is empty")
        self._key = key
        self.tolerance = tolerance

    def __repr__(self) -> str:
        return "NexaWebhook(secret=<redacted>)"

    def sign(self, timestamp: datetime | int, body: bytes | str) -> str:
        """The ``X-Nexa-Signature`` header value."""
        data = body.encode() if isinstance(body, str) else body
        content = f"{_unix(timestamp)}.".encode() + data
        digest = hmac.new(self._key, content, hashlib.sha256).digest()
        return "sha256=" + base64.b64encode(digest).decode()

    def headers(
        self,
        *,
        event_urn: Urn | str,
        tenant: Urn | str,
        timestamp: datetime | int,
        body: bytes | str,
        correlation_urn: Urn | str | None = None,
    ) -> dict[str, str]:
        """Every header of an outbound delivery."""
        out = {
            "Content-Type": "application/json",
            "X-Nexa-Signature": self.sign(timestamp, body),
            "X-Nexa-Signature-Timestamp": str(_unix(timestamp)),
            "X-Nexa-Event-Urn": str(event_urn),
            "X-Nexa-Tenant": str(tenant),
        }
        if correlation_urn is not None:
            out["X-Nexa-Correlation-Urn"] = str(correlation_urn)
        return out

    def verify(
        self, body: bytes, headers: Mapping[str, str], *, now: datetime | None = None
    ) -> VerifiedNexaWebhook:
        """Check signature and skew; returns the event URN, tenant and correlation."""
        h = _lower(headers)
        sig, ts_raw = h.get(_SIG), h.get(_TS)
        event, tenant = h.get(_EVENT), h.get(_TENANT)
        if not sig or not ts_raw or not event or not tenant:
            raise WebhookVerificationError("missing X-Nexa-* webhook headers")
        ts = _check_timestamp(ts_raw, now, self.tolerance)
        if not hmac.compare_digest(self.sign(ts, body).encode(), sig.strip().encode()):
            raise WebhookVerificationError("webhook signature does not match", event_urn=event)
        return VerifiedNexaWebhook(event, tenant, h.get(_CORR), ts)


def build_nexa_webhook(
    secret: str | bytes,
    url: str,
    body: bytes,
    *,
    event_urn: Urn,
    tenant: Urn,
    timestamp: datetime,
    correlation_urn: Urn | None = None,
) -> OutboundWebhook:
    """An outbound Nexa webhook request, signed at ``timestamp``."""
    headers = NexaWebhook(secret).headers(
        event_urn=event_urn,
        tenant=tenant,
        timestamp=timestamp,
        body=body,
        correlation_urn=correlation_urn,
    )
    return OutboundWebhook(url=url, headers=headers, body=body, event_urn=event_urn)
