"""``sendgrid`` plugin: email."""

from __future__ import annotations

from nexa_adapters.hookspecs import Register, hookimpl
from nexa_adapters.http._base import adapter_kwargs
from nexa_adapters.http.sendgrid.provider import SendGridEmail


@hookimpl
def nexa_register_notification_providers(register: Register) -> None:
    """SendGrid v3 Mail Send."""
    register(
        "sendgrid",
        lambda **o: SendGridEmail(base_url=o.get("sendgrid_base_url"), **adapter_kwargs(o)),
    )
