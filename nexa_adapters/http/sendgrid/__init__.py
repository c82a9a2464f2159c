"""SendGrid email adapter and the Signed Event Webhook verifier."""

from nexa_adapters.http.sendgrid.events import EVENTS, read_events, verify_event_webhook
from nexa_adapters.http.sendgrid.provider import SendGridEmail

__all__ = ["EVENTS", "SendGridEmail", "read_events", "verify_event_webhook"]
