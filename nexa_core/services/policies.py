"""Policy versions for operators: add, activate, history and "which version applies".

Guarded wrappers over :class:`~nexa_core.policy.PolicyService` (the CLI and the HTTP API
call these): supervisors add drafts and activate versions, operators read. Every write is
audited by the service under the caller's identity.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from nexa_core.auth import Principal, Role, requires, tenant_of
from nexa_core.errors import InvalidInputError, NoPolicyMatchError
from nexa_core.model import AuditEntry, PolicyRecord, Tier
from nexa_core.policy import Policy, PolicyService
from nexa_core.policy.resolution import Resolved
from nexa_core.urn import Urn

__all__ = [
    "TierResolution",
    "activate_policy",
    "add_policies",
    "policy_history",
    "resolve_policies",
]


@requires(Role.OPS_SUPERVISOR)
async def add_policies(
    versions: PolicyService,
    policies: Sequence[Policy],
    *,
    principal: Principal,
    reason: str,
    activate: bool = False,
) -> list[PolicyRecord]:
    """Store each policy as a new DRAFT version of its context (then ACTIVE if asked)."""
    if not policies:
        raise InvalidInputError("the file holds no policy", field="policies")
    if not reason.strip():
        raise InvalidInputError("a reason is required", field="reason")
    tenant = tenant_of(principal)
    out = []
    for policy in policies:
        record = await versions.create_draft(tenant, policy, reason=reason)
        if activate:
            record = await versions.activate(tenant, record.urn, reason=reason)
        out.append(record)
    return out


@requires(Role.OPS_SUPERVISOR)
async def activate_policy(
    versions: PolicyService, urn: Urn, *, principal: Principal, reason: str
) -> PolicyRecord:
    """Activate a DRAFT (or roll back to an ARCHIVED) version; the previous ACTIVE version
    of the same context is archived."""
    if not reason.strip():
        raise InvalidInputError("a reason is required", field="reason")
    return await versions.activate(tenant_of(principal), urn, reason=reason)


@requires(Role.AIRPORT_OPERATOR, read_only=True)
async def policy_history(
    versions: PolicyService, *, principal: Principal, urn: Urn | None = None
) -> tuple[list[PolicyRecord], list[AuditEntry]]:
    """Every stored version of the tenant (oldest first) and, for ``urn``, its audit
    trail (created, activated, archived, rolled back)."""
    tenant = tenant_of(principal)
    records = await versions.records(tenant)
    if urn is None:
        return records, []
    record, _ = await versions.get(tenant, urn)  # NotFoundError for another tenant's
    return [record], await versions.history(tenant, record.urn)


@attrs.frozen
class TierResolution:
    """The version one tier resolves to (``resolved`` None: ``error`` says why)."""

    tier: Tier
    resolved: Resolved | None
    error: str | None = None


@requires(Role.AIRPORT_OPERATOR, read_only=True)
async def resolve_policies(
    versions: PolicyService,
    *,
    principal: Principal,
    airport: str,
    country: str | None,
    tiers: Sequence[Tier] = tuple(Tier),
) -> tuple[list[TierResolution], Resolved | None, str | None]:
    """Per tier the ACTIVE version that applies at ``airport``, and the one version a new
    case with passengers of every tier in ``tiers`` would run under (or why none)."""
    tenant = tenant_of(principal)
    rows = []
    for tier in tiers:
        try:
            rows.append(
                TierResolution(
                    tier,
                    await versions.resolve(tenant, tier=tier, airport=airport, country=country),
                )
            )
        except NoPolicyMatchError as exc:
            rows.append(TierResolution(tier, None, exc.message))
    try:
        case = await versions.resolve_case(tenant, tiers=tiers, airport=airport, country=country)
    except NoPolicyMatchError as exc:
        return rows, None, exc.message
    return rows, case, None
