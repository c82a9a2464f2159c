"""Case access services: read, list and move a case through its lifecycle.

Each call takes the caller's verified :class:`~nexa_core.auth.Principal`; the tenant comes
only from it. A case of another tenant is :class:`NotFoundError`; a case at an airport the
operator is not assigned to is :class:`PermissionDeniedError` (audited).
"""

from __future__ import annotations

import logging

from nexa_core.auth import Principal, Role, enforce_airport, iata_of, requires, tenant_of
from nexa_core.errors import InvalidInputError
from nexa_core.model import AuditEntry, Case, CaseStatus, DomainEvent
from nexa_core.model.audit import changed_fields
from nexa_core.ports import Clock, IdGenerator, OperationalStore
from nexa_core.tracing import stage
from nexa_core.urn import Urn

__all__ = ["close_case", "get_case", "list_cases", "partner_case_status", "transition_case"]

_log = logging.getLogger("nexa.services.cases")
_SERVICE = "nexa_core.services.case_access"


@requires(Role.AIRPORT_OPERATOR, read_only=True, case_arg="case_urn", passengers=True)
async def get_case(store: OperationalStore, case_urn: Urn, *, principal: Principal) -> Case:
    """The case (operators of its airport, auditors, or the passenger holding its token)."""
    tenant = tenant_of(principal)
    case = await store.cases.get(tenant, case_urn)
    await enforce_airport(
        principal, case.airport_urn, service=f"{_SERVICE}.get_case", entity_urn=case.urn
    )
    return case


@requires(Role.AIRPORT_OPERATOR, read_only=True, airport_arg="airport")
async def list_cases(
    store: OperationalStore,
    *,
    principal: Principal,
    airport: str | None = None,
    status: CaseStatus | None = None,
    limit: int | None = None,
) -> list[Case]:
    """Cases of the caller's tenant, optionally at one airport and in one status.

    An operator limited to some airports must name one of them.
    """
    tenant = tenant_of(principal)
    where: dict[str, object] = {}
    if airport is not None:
        where["airport_urn"] = Urn("airport", iata_of(airport))
    if status is not None:
        where["status"] = status
    return await store.cases.find(tenant, limit=limit, **where)


@requires(Role.AIRPORT_OPERATOR, read_only=True, partner_scopes=frozenset({"cases:read"}))
async def partner_case_status(
    store: OperationalStore, case_urn: Urn, *, principal: Principal
) -> CaseStatus:
    """The status of a case, for operators and partners granted ``cases:read``."""
    case = await store.cases.get(tenant_of(principal), case_urn)
    await enforce_airport(
        principal, case.airport_urn, service=f"{_SERVICE}.partner_case_status", entity_urn=case.urn
    )
    return case.status


async def _move(
    store: OperationalStore,
    clock: Clock,
    ids: IdGenerator,
    case_urn: Urn,
    to: CaseStatus,
    reason: str,
    principal: Principal,
    service: str,
) -> Case:
    if not reason.strip():
        raise InvalidInputError("a reason is required to change a case", field="reason")
    tenant = tenant_of(principal)
    # the airport check (and its audited denial) happens outside the unit of work, so a
    # denial is recorded even though nothing else is written
    seen = await store.cases.get(tenant, case_urn)
    await enforce_airport(principal, seen.airport_urn, service=service, entity_urn=seen.urn)
    with stage("case.transition"):
        async with store.transaction() as tx:
            case = await tx.cases.get(tenant, case_urn)
            now = clock.now()
            moved = case.transition(to)
            stored = await tx.cases.update(tenant, moved)
            before, after = changed_fields(
                {"status": case.status.value}, {"status": stored.status.value}
            )
            await tx.audit.append(
                tenant,
                AuditEntry(
                    urn=ids.new("audit"),
                    airline_urn=tenant.airline_urn,
                    actor=tenant.actor,
                    action="case.transition",
                    entity_urn=stored.urn,
                    reason=reason,
                    at=now,
                    correlation_urn=tenant.correlation_urn,
                    before=before,
                    after=after,
                ),
            )
            await tx.outbox.append(
                tenant,
                DomainEvent(
                    ids.new("event"),
                    tenant.airline_urn,
                    "case.transitioned",
                    stored.urn,
                    now,
                    correlation_urn=tenant.correlation_urn,
                    data={"from": case.status.value, "to": stored.status.value},
                    key=f"{stored.urn}:{stored.version}",
                ),
            )
    _log.info(
        "case transitioned",
        extra={"case_urn": str(stored.urn), "from": case.status.value, "to": to.value},
    )
    return stored


@requires(Role.AIRPORT_OPERATOR, case_arg="case_urn")
async def transition_case(
    store: OperationalStore,
    clock: Clock,
    ids: IdGenerator,
    case_urn: Urn,
    to: CaseStatus,
    reason: str,
    *,
    principal: Principal,
) -> Case:
    """Move a case to ``to`` (state, audit entry and event commit together)."""
    return await _move(
        store, clock, ids, case_urn, to, reason, principal, f"{_SERVICE}.transition_case"
    )


@requires(Role.OPS_SUPERVISOR, case_arg="case_urn")
async def close_case(
    store: OperationalStore,
    clock: Clock,
    ids: IdGenerator,
    case_urn: Urn,
    reason: str,
    *,
    principal: Principal,
) -> Case:
    """Close a case (supervisors only)."""
    return await _move(
        store, clock, ids, case_urn, CaseStatus.CLOSED, reason, principal, f"{_SERVICE}.close_case"
    )
