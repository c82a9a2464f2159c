"""Idempotency keys derived from upstream ids (facts file, idempotency table).

Keys never come from request or job ids: a worker retry derives the same key, a new
operator action (resend, re-book) passes a new ``action_seq``.
"""

from __future__ import annotations

import hashlib

from nexa_core.urn import Urn

__all__ = ["SCOPES", "idempotency_key"]

#: scope → the upstream ids that make up the key.
SCOPES: dict[str, tuple[str, ...]] = {
    "case": ("external_event_id",),
    "demand": ("case_urn", "type", "requested_at_bucket"),
    "wave": ("case_urn", "demand_urn", "wave_seq"),
    "booking": ("case_urn", "wave_urn", "group_id"),
    "notification": ("group_id", "type", "channel", "reservation_urn"),
    "payment": ("case_urn", "reservation_urn"),
    "agent": ("item_urn", "run_seq"),
    "card": ("case_urn", "group_id"),
    "transfer": ("transfer_urn",),
    "webhook": ("event_urn",),
}


_LETTERS = str.maketrans("0123456789", "ghijklmnop")


def idempotency_key(scope: str, *parts: str | Urn | int | None) -> str:
    """``<scope>:<sha256 of the parts, as 40 letters>`` — stable, short and free of PII.

    The number of parts must match :data:`SCOPES` for known scopes.
    """
    expected = SCOPES.get(scope)
    if expected is not None and len(parts) != len(expected):
        raise ValueError(
            f"scope {scope!r} takes {len(expected)} parts {expected}, got {len(parts)}"
        )
    text = "\x1f".join("" if p is None else str(p) for p in parts)
    # hex digits shifted to letters: a key stored in a record can never look like a card
    # number to the PII guard (a 40-hex digest holds a Luhn-valid 13-19 digit run ~0.1%)
    digest = hashlib.sha256(f"{scope}\x1e{text}".encode()).hexdigest()[:40].translate(_LETTERS)
    return f"{scope}:{digest}"
