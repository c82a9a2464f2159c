"""``twilio`` plugin: SMS."""

from __future__ import annotations

from nexa_adapters.hookspecs import Register, hookimpl
from nexa_adapters.http._base import adapter_kwargs
from nexa_adapters.http.twilio.provider import TwilioSMS


@hookimpl
def nexa_register_notification_providers(register: Register) -> None:
    """Twilio Messages API (SMS)."""
    register(
        "twilio",
        lambda **o: TwilioSMS(
            base_url=o.get("twilio_base_url"),
            status_callback_url=o.get("twilio_status_callback_url"),
            **adapter_kwargs(o),
        ),
    )
