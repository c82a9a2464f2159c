"""Pomelo virtual card adapter with signed transaction webhooks."""

from nexa_adapters.http.pomelo.provider import (
    CARD_STATUSES,
    SPENDABLE,
    PomeloCards,
    PrepaidLedger,
    WebhookOutcome,
    pomelo_signature,
)

__all__ = [
    "CARD_STATUSES",
    "SPENDABLE",
    "PomeloCards",
    "PrepaidLedger",
    "WebhookOutcome",
    "pomelo_signature",
]
