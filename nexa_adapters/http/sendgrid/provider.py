"""SendGrid email over the v3 Mail Send API (``POST /v3/mail/send``).

Credentials per tenant: ``api_key`` and ``from_email`` (optionally ``from_name``), and
``event_webhook_public_key`` (the Signed Event Webhook verification key). The dedup key
travels as the personalization's ``custom_args.nexa_dedup_key`` (the published schema
types ``custom_args`` as an object there, and as a string at the top level) so event
webhooks can be matched; the provider
message id is SendGrid's ``X-Message-Id`` response header. Delivery receipts are taken
only from a verified Event Webhook (:mod:`~nexa_adapters.http.sendgrid.events`).
"""

from __future__ import annotations

import base64
import contextlib
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from nexa_adapters.http._base import HttpAdapter
from nexa_adapters.http._inbound import DeliveryReceipt
from nexa_adapters.http.sendgrid.events import read_events, verify_event_webhook
from nexa_core.errors import InvalidInputError, MalformedResponseError, NotFoundError
from nexa_core.model import Channel
from nexa_core.ports import OutboundMessage, SendResult
from nexa_core.urn import Urn

__all__ = ["SendGridEmail"]


class SendGridEmail(HttpAdapter):
    """NotificationProvider for email."""

    vendor = "sendgrid"
    default_base_url = "https://api.sendgrid.com"
    channels = frozenset({Channel.EMAIL})

    async def _payload(self, message: OutboundMessage) -> dict[str, Any]:
        tenant = message.airline_urn
        sender: dict[str, str] = {"email": (await self.secret(tenant, "from_email")).reveal()}
        with contextlib.suppress(NotFoundError):
            sender["name"] = (await self.secret(tenant, "from_name")).reveal()
        content = [{"type": "text/plain", "value": message.text}]
        if message.html:
            content.append({"type": "text/html", "value": message.html})
        personalization: dict[str, Any] = {"to": [{"email": message.to}]}
        if message.dedup_key:
            personalization["custom_args"] = {"nexa_dedup_key": message.dedup_key}
        body: dict[str, Any] = {
            "personalizations": [personalization],
            "from": sender,
            "subject": message.subject,
            "content": content,
        }
        if message.attachments:
            body["attachments"] = [
                {
                    "content": base64.b64encode(data).decode(),
                    "filename": name,
                    "type": mime,
                    "disposition": "attachment",
                }
                for name, mime, data in message.attachments
            ]
        return body

    async def send(self, message: OutboundMessage) -> SendResult:
        """Send one email; a replay of ``dedup_key`` returns the first message id."""
        if message.channel is not Channel.EMAIL:
            raise InvalidInputError(f"sendgrid sends email, not {message.channel}", field="channel")
        tenant = message.airline_urn
        if message.dedup_key:
            seen = await self.replays.get(tenant, "sendgrid.send", message.dedup_key)
            if seen is not None:
                return SendResult(seen["id"], replayed=True)
        key = await self.secret(tenant, "api_key")
        body = await self._payload(message)

        async def headers() -> dict[str, str]:
            return {"Authorization": f"Bearer {key.reveal()}"}

        response = await self.http.request(
            "POST",
            "/v3/mail/send",
            tenant=tenant,
            operation="mail.send",
            headers=headers,
            json=body,
            ok=frozenset({202}),
            idempotent=False,  # a lost 202 may mean a sent mail; the outbox decides
        )
        message_id = response.headers.get("X-Message-Id")
        if not message_id:
            raise MalformedResponseError(
                "sendgrid mail.send: 202 without X-Message-Id",
                vendor=self.vendor,
                fields="X-Message-Id",
            )
        if message.dedup_key:
            await self.replays.put(tenant, "sendgrid.send", message.dedup_key, {"id": message_id})
        return SendResult(message_id)

    async def verify_events(
        self,
        tenant: Urn,
        headers: Mapping[str, str],
        body: bytes,
        *,
        now: datetime | None = None,
    ) -> list[DeliveryReceipt]:
        """Verify a Signed Event Webhook delivery with the tenant's key, then read it.

        Raises :class:`~nexa_core.errors.WebhookVerificationError` before any event is read
        when the signature, the timestamp or the body does not hold.
        """
        key = await self.secret(tenant, "event_webhook_public_key")
        verify_event_webhook(key.reveal(), headers, body, now=now or self.clock.now())
        return read_events(body)
