"""Commit a state change with its events and audit entries in one transaction."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from nexa_core.model import AuditEntry, DomainEvent, changed_fields
from nexa_core.ports import Clock, IdGenerator, OperationalStore
from nexa_core.tenancy import TenantContext
from nexa_core.urn import Urn

__all__ = ["Change", "Recorder", "digest"]

_LETTERS = str.maketrans("0123456789", "ghijklmnop")


def digest(*parts: object, length: int = 20) -> str:
    """A short stable digest of ``parts`` (deterministic ids minted from upstream ids).

    Letters only (hex digits shifted to ``g``–``p``), so an id can never look like a
    card number to the PII guard.
    """
    text = "\x1f".join(str(p) for p in parts)
    return hashlib.sha256(text.encode()).hexdigest()[:length].translate(_LETTERS)


@attrs.frozen
class Change:
    """One write of a unit of work: ``add`` or ``update`` an item of a named store."""

    table: str  # "cases", "sub_cases", "reservations", …
    item: Any
    op: str = "update"  # "add" | "update"
    before: Mapping[str, Any] = attrs.field(factory=dict)


@attrs.frozen
class Recorder:
    """Writes changes + events + audit atomically through ``store.transaction()``."""

    store: OperationalStore
    clock: Clock
    ids: IdGenerator

    def event(
        self,
        tenant: TenantContext,
        type: str,
        subject: Urn,
        data: Mapping[str, Any] | None = None,
        *,
        key: str = "",
    ) -> DomainEvent:
        """A typed event carrying URNs and the tenant's correlation URN."""
        return DomainEvent(
            self.ids.new("event"),
            tenant.airline_urn,
            type,
            subject,
            self.clock.now(),
            correlation_urn=tenant.correlation_urn,
            data=dict(data or {}),
            key=key,
        )

    def audit(
        self,
        tenant: TenantContext,
        action: str,
        entity: Urn,
        reason: str,
        before: Mapping[str, Any] | None = None,
        after: Mapping[str, Any] | None = None,
    ) -> AuditEntry:
        """An audit entry by the tenant's actor (changed fields only)."""
        b, a = changed_fields(before or {}, after or {})
        return AuditEntry(
            self.ids.new("audit"),
            tenant.airline_urn,
            tenant.actor,
            action,
            entity,
            reason,
            self.clock.now(),
            correlation_urn=tenant.correlation_urn,
            before=b,
            after=a,
        )

    async def commit(
        self,
        tenant: TenantContext,
        changes: Sequence[Change],
        events: Sequence[DomainEvent] = (),
        audits: Sequence[AuditEntry] = (),
    ) -> list[Any]:
        """Apply every change, append events and audit entries; all or nothing."""
        out: list[Any] = []
        async with self.store.transaction() as tx:
            for change in changes:
                table = getattr(tx, change.table)
                if change.op == "add":
                    out.append(await table.add(tenant, change.item))
                else:
                    out.append(await table.update(tenant, change.item))
            for event in events:
                await tx.outbox.append(tenant, event)
            for entry in audits:
                await tx.audit.append(tenant, entry)
        return out
