"""Pomelo virtual card adapter with signed transaction webhooks."""

from nexa_adapters.http.pomelo.provider import (
    PomeloCards,
    PrepaidLedger,
    WebhookOutcome,
    pomelo_signature,
)

__all__ = ["PomeloCards", "PrepaidLedger", "WebhookOutcome", "pomelo_signature"]
