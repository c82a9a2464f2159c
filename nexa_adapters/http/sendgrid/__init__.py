"""SendGrid email adapter."""

from nexa_adapters.http.sendgrid.provider import SendGridEmail

__all__ = ["SendGridEmail"]
