"""Twilio SMS over the Messages API, plus verified status callbacks.

Credentials per tenant: ``account_sid``, ``auth_token`` and ``from_number`` (E.164) or
``messaging_service_sid``. Status callbacks are verified with ``X-Twilio-Signature``
(:mod:`~nexa_adapters.http.twilio.signature`) before anything in them is read.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from nexa_adapters.http._base import HttpAdapter
from nexa_adapters.http._inbound import DeliveryReceipt
from nexa_adapters.http._resilience import (
    Classifier,
    default_error,
    parse_json,
    parse_model,
    retry_after_seconds,
)
from nexa_adapters.http.twilio import dto
from nexa_adapters.http.twilio.signature import verify_request
from nexa_core.errors import (
    InvalidInputError,
    NexaError,
    NotFoundError,
    ProviderAuthError,
    ProviderRejectedError,
    RateLimitedError,
    WebhookVerificationError,
)
from nexa_core.model import Channel, NotificationStatus
from nexa_core.ports import OutboundMessage, SendResult
from nexa_core.urn import Urn

__all__ = ["STATUSES", "TWILIO_ERROR_CODES", "TwilioSMS"]

#: Twilio error codes (``code`` in the error body) that refine the HTTP status table.
TWILIO_ERROR_CODES: Mapping[int, type[NexaError]] = {
    20003: ProviderAuthError,  # authentication failed
    20429: RateLimitedError,  # too many requests
    21211: ProviderRejectedError,  # invalid 'To' number
    21408: ProviderRejectedError,  # region not enabled
    21610: ProviderRejectedError,  # recipient unsubscribed (STOP)
    21614: ProviderRejectedError,  # 'To' is not a mobile number
}

#: every message status Twilio publishes → what it means for the receipt (None: the
#: callback changes nothing and is acknowledged; inbound ``receiving``/``received`` are
#: not statuses of a message Nexa sent)
STATUSES: Mapping[str, NotificationStatus | None] = {
    "accepted": NotificationStatus.QUEUED,
    "scheduled": NotificationStatus.QUEUED,
    "queued": NotificationStatus.QUEUED,
    "sending": NotificationStatus.QUEUED,
    "sent": NotificationStatus.SENT,
    "partially_delivered": NotificationStatus.SENT,
    "delivered": NotificationStatus.DELIVERED,
    "read": NotificationStatus.DELIVERED,
    "undelivered": NotificationStatus.FAILED,
    "failed": NotificationStatus.FAILED,
    "canceled": NotificationStatus.FAILED,
    "receiving": None,
    "received": None,
}


class TwilioSMS(HttpAdapter):
    """NotificationProvider for SMS."""

    vendor = "twilio"
    default_base_url = "https://api.twilio.com"
    channels = frozenset({Channel.SMS})

    def __init__(self, *, status_callback_url: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.status_callback_url = status_callback_url

    @property
    def classify(self) -> Classifier:
        def classify(response: httpx.Response, operation: str) -> NexaError | None:
            base = default_error(response, self.vendor, operation)
            try:
                code = int(base.context.get("vendor_code", ""))
            except ValueError:
                return None
            cls = TWILIO_ERROR_CODES.get(code)
            if cls is None or response.status_code >= 500:
                return None
            if cls is RateLimitedError:
                return RateLimitedError(
                    base.message,
                    **{
                        **base.context,
                        "retry_after": retry_after_seconds(response.headers.get("Retry-After")),
                    },
                )
            return cls(base.message, **base.context)

        return classify

    async def send(self, message: OutboundMessage) -> SendResult:
        """Send one SMS; a replay of ``dedup_key`` returns the first message SID."""
        if message.channel is not Channel.SMS:
            raise InvalidInputError(f"twilio sends SMS, not {message.channel}", field="channel")
        tenant = message.airline_urn
        if message.dedup_key:
            seen = await self.replays.get(tenant, "twilio.send", message.dedup_key)
            if seen is not None:
                return SendResult(seen["sid"], replayed=True)
        sid = await self.secret(tenant, "account_sid")
        token = await self.secret(tenant, "auth_token")
        form = {"To": message.to, "Body": message.text}
        try:
            form["From"] = (await self.secret(tenant, "from_number")).reveal()
        except NotFoundError:
            form["MessagingServiceSid"] = (
                await self.secret(tenant, "messaging_service_sid")
            ).reveal()
        if self.status_callback_url:
            form["StatusCallback"] = self.status_callback_url
        response = await self.http.request(
            "POST",
            f"/2010-04-01/Accounts/{sid.reveal()}/Messages.json",
            tenant=tenant,
            operation="messages.create",
            auth=httpx.BasicAuth(sid.reveal(), token.reveal()),
            data=form,
            idempotent=False,  # a lost answer may mean a sent SMS; the outbox decides
        )
        created = parse_model(
            dto.MessageResource,
            parse_json(response, self.vendor, "messages.create"),
            self.vendor,
            "messages.create",
        )
        if message.dedup_key:
            await self.replays.put(tenant, "twilio.send", message.dedup_key, {"sid": created.sid})
            await self.replays.put(tenant, "twilio.sid", created.sid, {"key": message.dedup_key})
        return SendResult(created.sid)

    async def verify_status_callback(
        self, tenant: Urn, url: str, headers: Mapping[str, str], body: bytes
    ) -> DeliveryReceipt:
        """Verify a status callback (the tenant's auth token) and read it.

        ``url`` is the full callback URL Twilio requested. Raises
        :class:`WebhookVerificationError` for a bad signature, a malformed body or a
        status Twilio does not publish.
        """
        token = await self.secret(tenant, "auth_token")
        form = verify_request(token.reveal(), url, headers, body)
        try:
            cb = dto.StatusCallback.model_validate(dict(form))
        except ValueError:
            raise WebhookVerificationError(
                "twilio status callback does not carry MessageSid and MessageStatus",
                vendor=self.vendor,
            ) from None
        raw = cb.MessageStatus.lower()
        if raw not in STATUSES:
            raise WebhookVerificationError(
                f"twilio status callback has unknown status {cb.MessageStatus!r}",
                vendor=self.vendor,
            )
        known = await self.replays.get(tenant, "twilio.sid", cb.MessageSid)
        return DeliveryReceipt(
            vendor=self.vendor,
            event_id=f"{cb.MessageSid}.{raw}",  # one callback per status transition
            message_id=cb.MessageSid,
            dedup_key=str(known["key"]) if known else None,
            status=STATUSES[raw],
            vendor_event=raw,
            reason=f"error {cb.ErrorCode}" if cb.ErrorCode else "",
        )
