"""Read the audit trail (finance auditors, supervisors and admins)."""

from __future__ import annotations

from datetime import datetime

from nexa_core.auth import Principal, Role, requires, tenant_of
from nexa_core.model import AuditEntry
from nexa_core.ports import AuditQuery, OperationalStore
from nexa_core.urn import Urn

__all__ = ["audit_trail"]


@requires(Role.FINANCE_AUDIT)
async def audit_trail(
    store: OperationalStore,
    *,
    principal: Principal,
    entity_urn: Urn | None = None,
    action: str | None = None,
    correlation_urn: Urn | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int | None = None,
) -> list[AuditEntry]:
    """Audit entries of the caller's tenant matching the filters, oldest first."""
    query = AuditQuery(entity_urn, action, correlation_urn, since, until, limit)
    return await store.audit.query(tenant_of(principal), query)
