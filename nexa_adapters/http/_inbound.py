"""What every inbound receipt verifier shares: the body cap, header lookup, freshness,
and the normalised delivery receipt.

A verifier is a plain function of ``(headers, raw body, the tenant's key or secret)``;
it either returns what the receipt says or raises
:class:`~nexa_core.errors.WebhookVerificationError` before anything is parsed beyond what
the signature needs. Bodies are capped *before* any cryptography runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs

from nexa_adapters.documents.safe_json import LIMITS, load_json
from nexa_adapters.webhooks import TOLERANCE
from nexa_core.errors import InvalidInputError, WebhookVerificationError
from nexa_core.model import NotificationStatus

__all__ = [
    "MAX_BODY_BYTES",
    "DeliveryReceipt",
    "check_body_size",
    "check_fresh",
    "decode_json",
    "header",
]

#: Largest inbound receipt body accepted (bytes), checked before any signature work.
MAX_BODY_BYTES = 1024 * 1024


def check_body_size(body: bytes, vendor: str, *, max_bytes: int = MAX_BODY_BYTES) -> None:
    """Refuse a body larger than ``max_bytes`` (no hashing, no parsing)."""
    if len(body) > max_bytes:
        raise WebhookVerificationError(
            f"{vendor} webhook body is larger than {max_bytes} bytes",
            vendor=vendor,
            bytes=len(body),
        )


def decode_json(body: bytes, vendor: str, *, max_bytes: int = MAX_BODY_BYTES) -> Any:
    """A verified body decoded with the safe loader (depth, NaN, duplicate keys, hidden
    characters); anything it refuses is a :class:`WebhookVerificationError`."""
    limits = attrs.evolve(LIMITS["webhook"], max_bytes=max_bytes)
    try:
        return load_json(body, limits=limits, what=f"{vendor} webhook")
    except InvalidInputError as exc:
        raise WebhookVerificationError(
            f"{vendor} webhook body is malformed: {exc.message}", vendor=vendor
        ) from None


def header(headers: Mapping[str, str], name: str) -> str | None:
    """A header by case-insensitive name."""
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return None


def check_fresh(
    timestamp: str,
    vendor: str,
    *,
    now: datetime | None = None,
    tolerance: timedelta = TOLERANCE,
) -> int:
    """Unix seconds from ``timestamp``, refused when further than ``tolerance`` from ``now``."""
    try:
        ts = int(timestamp.strip())
        sent = datetime.fromtimestamp(ts, UTC)
    except (ValueError, OverflowError, OSError):
        raise WebhookVerificationError(
            f"{vendor} webhook timestamp is not unix seconds", vendor=vendor
        ) from None
    current = now or datetime.now(UTC)
    if abs(current - sent) > tolerance:
        raise WebhookVerificationError(
            f"{vendor} webhook timestamp is outside {int(tolerance.total_seconds())} s",
            vendor=vendor,
            timestamp=ts,
        )
    return ts


@attrs.frozen
class DeliveryReceipt:
    """One verified delivery event of a message Nexa sent.

    ``dedup_key`` is the notification's key (None when the provider reports a message
    Nexa cannot attribute); ``status`` is None for events that change nothing (opens,
    clicks, deferrals): they are acknowledged and ignored, with ``vendor_event`` saying why.
    ``event_id`` makes redeliveries idempotent.
    """

    vendor: str
    event_id: str
    message_id: str | None
    dedup_key: str | None
    status: NotificationStatus | None
    vendor_event: str
    reason: str = ""
