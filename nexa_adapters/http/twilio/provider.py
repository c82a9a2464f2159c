"""Twilio SMS over the Messages API, plus verified status callbacks.

Credentials per tenant: ``account_sid``, ``auth_token`` and ``from_number`` (E.164) or
``messaging_service_sid``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from nexa_adapters.http._base import HttpAdapter
from nexa_adapters.http._resilience import (
    Classifier,
    default_error,
    parse_json,
    parse_model,
    retry_after_seconds,
)
from nexa_adapters.http.twilio import dto
from nexa_adapters.http.twilio.signature import validate_signature
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

__all__ = ["TWILIO_ERROR_CODES", "TwilioSMS"]

#: Twilio error codes (``code`` in the error body) that refine the HTTP status table.
TWILIO_ERROR_CODES: Mapping[int, type[NexaError]] = {
    20003: ProviderAuthError,  # authentication failed
    20429: RateLimitedError,  # too many requests
    21211: ProviderRejectedError,  # invalid 'To' number
    21408: ProviderRejectedError,  # region not enabled
    21610: ProviderRejectedError,  # recipient unsubscribed (STOP)
    21614: ProviderRejectedError,  # 'To' is not a mobile number
}

_STATUS = {
    "accepted": NotificationStatus.QUEUED,
    "queued": NotificationStatus.QUEUED,
    "sending": NotificationStatus.QUEUED,
    "sent": NotificationStatus.SENT,
    "delivered": NotificationStatus.DELIVERED,
    "undelivered": NotificationStatus.FAILED,
    "failed": NotificationStatus.FAILED,
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
        return SendResult(created.sid)

    async def verify_status_callback(
        self, tenant: Urn, url: str, params: Mapping[str, str], signature: str
    ) -> tuple[str, NotificationStatus]:
        """Check ``X-Twilio-Signature`` and return ``(message sid, status)``."""
        token = await self.secret(tenant, "auth_token")
        if not validate_signature(token.reveal(), url, params, signature):
            raise WebhookVerificationError("twilio status callback signature does not match")
        cb = parse_model(dto.StatusCallback, dict(params), self.vendor, "status-callback")
        status = _STATUS.get(cb.MessageStatus.lower())
        if status is None:
            raise WebhookVerificationError(
                f"twilio status callback has unknown status {cb.MessageStatus!r}"
            )
        return cb.MessageSid, status
