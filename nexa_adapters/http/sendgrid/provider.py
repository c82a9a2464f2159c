"""SendGrid email over the v3 Mail Send API (``POST /v3/mail/send``).

Credentials per tenant: ``api_key`` and ``from_email`` (optionally ``from_name``). The
dedup key travels as ``custom_args.nexa_dedup_key`` so event webhooks can be matched;
the provider message id is SendGrid's ``X-Message-Id`` response header.
"""

from __future__ import annotations

import base64
import contextlib
from typing import Any

from nexa_adapters.http._base import HttpAdapter
from nexa_core.errors import InvalidInputError, MalformedResponseError, NotFoundError
from nexa_core.model import Channel
from nexa_core.ports import OutboundMessage, SendResult

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
        body: dict[str, Any] = {
            "personalizations": [{"to": [{"email": message.to}]}],
            "from": sender,
            "subject": message.subject,
            "content": content,
        }
        if message.dedup_key:
            body["custom_args"] = {"nexa_dedup_key": message.dedup_key}
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
                "sendgrid mail.send: 202 without X-Message-Id", vendor=self.vendor
            )
        if message.dedup_key:
            await self.replays.put(tenant, "sendgrid.send", message.dedup_key, {"id": message_id})
        return SendResult(message_id)
