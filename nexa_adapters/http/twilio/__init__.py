"""Twilio SMS adapter and the ``X-Twilio-Signature`` validator."""

from nexa_adapters.http.twilio.provider import TWILIO_ERROR_CODES, TwilioSMS
from nexa_adapters.http.twilio.signature import compute_signature, validate_signature

__all__ = ["TWILIO_ERROR_CODES", "TwilioSMS", "compute_signature", "validate_signature"]
