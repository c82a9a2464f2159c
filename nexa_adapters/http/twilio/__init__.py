"""Twilio SMS adapter and the ``X-Twilio-Signature`` validator."""

from nexa_adapters.http.twilio.provider import STATUSES, TWILIO_ERROR_CODES, TwilioSMS
from nexa_adapters.http.twilio.signature import (
    body_sha256,
    compute_signature,
    validate_signature,
    verify_request,
)

__all__ = [
    "STATUSES",
    "TWILIO_ERROR_CODES",
    "TwilioSMS",
    "body_sha256",
    "compute_signature",
    "validate_signature",
    "verify_request",
]
