"""Append-only audit entries."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import attrs

from nexa_core.urn import Urn

__all__ = ["Actor", "AuditEntry", "changed_fields"]


@attrs.frozen
class Actor:
    """Who did it: a user, a service account or the system."""

    urn: Urn
    role: str = "SYSTEM"
    token_id: str | None = None


@attrs.frozen
class AuditEntry:
    """One immutable record of an action; ``before``/``after`` hold changed fields only."""

    urn: Urn
    airline_urn: Urn
    actor: Actor
    action: str
    entity_urn: Urn
    reason: str
    at: datetime
    correlation_urn: Urn | None = None
    before: Mapping[str, Any] = attrs.field(factory=dict)
    after: Mapping[str, Any] = attrs.field(factory=dict)
    version: int = 0


def changed_fields(
    before: Mapping[str, Any], after: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Keep only the keys whose values differ (missing counts as ``None``)."""
    keys = set(before) | set(after)
    b = {k: before.get(k) for k in sorted(keys) if before.get(k) != after.get(k)}
    a = {k: after.get(k) for k in sorted(keys) if before.get(k) != after.get(k)}
    return b, a
