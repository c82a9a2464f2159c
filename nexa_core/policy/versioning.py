"""Policy versions over the store: DRAFT → ACTIVE → ARCHIVED, rollback, audit.

* :meth:`PolicyService.create_draft` stores a new version (number = last number of the
  same context + 1) as DRAFT. A draft has no effect.
* :meth:`PolicyService.activate` moves a DRAFT (or an ARCHIVED version: that is a
  rollback) to ACTIVE and archives every other ACTIVE version with the same context key
  (airline | airport | country | tier set) — in one transaction.
* :meth:`PolicyService.archive` retires an ACTIVE version without a successor.
* Every change appends an :class:`~nexa_core.model.AuditEntry` (``policy.create``,
  ``policy.activate``, ``policy.rollback``, ``policy.archive``) with the changed fields
  before/after, the actor and the reason, in the same transaction as the state change.
* :meth:`PolicyService.resolve` / :meth:`PolicyService.explain` run the pure
  :mod:`~nexa_core.policy.resolution` over the tenant's versions;
  :meth:`PolicyService.resolve_case` picks the one version a new case runs under (every
  tier of its passengers must resolve to it).
* :meth:`PolicyService.record_ad_hoc` stores a policy file a case was opened with
  explicitly as an ``AD_HOC`` version (the same document is recorded once per context):
  the case points at it like at any other version, resolution never picks it.

The stored document is the policy unstructured by :mod:`nexa_core.serialization`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from nexa_core.errors import IllegalTransitionError, InvalidInputError, NoPolicyMatchError
from nexa_core.model import AuditEntry, PolicyRecord, PolicyState, Tier, changed_fields
from nexa_core.policy.model import Policy
from nexa_core.policy.resolution import (
    Explanation,
    PolicyVersion,
    Resolved,
    context_key,
    explain,
    resolve,
)
from nexa_core.ports import AuditQuery, Clock, IdGenerator, OperationalStore
from nexa_core.serialization import structure, unstructure
from nexa_core.tenancy import TenantContext
from nexa_core.urn import Urn

__all__ = ["PolicyService", "policy_from_record"]


def policy_from_record(record: PolicyRecord) -> Policy:
    """The policy a stored version holds."""
    try:
        return structure(dict(record.document), Policy)
    except Exception as exc:  # cattrs raises class/validation groups
        raise InvalidInputError(
            f"stored policy {record.urn} cannot be read: {exc}", urn=str(record.urn)
        ) from None


def _view(record: PolicyRecord) -> dict[str, Any]:
    return {"state": record.state.value, "number": record.number, "name": record.name}


class PolicyService:
    """Versioning and resolution of a tenant's policies."""

    def __init__(self, store: OperationalStore, *, clock: Clock, ids: IdGenerator) -> None:
        self._store = store
        self._clock = clock
        self._ids = ids

    async def _audit(
        self,
        tx: OperationalStore,
        tenant: TenantContext,
        action: str,
        record: PolicyRecord,
        before: dict[str, Any],
        reason: str,
    ) -> None:
        b, a = changed_fields(before, _view(record))
        await tx.audit.append(
            tenant,
            AuditEntry(
                urn=self._ids.new("audit"),
                airline_urn=tenant.airline_urn,
                actor=tenant.actor,
                action=action,
                entity_urn=record.urn,
                reason=reason,
                at=self._clock.now(),
                correlation_urn=tenant.correlation_urn,
                before=b,
                after=a,
            ),
        )

    async def create_draft(
        self, tenant: TenantContext, policy: Policy, *, reason: str = "created"
    ) -> PolicyRecord:
        """Store ``policy`` as a new DRAFT version of its context."""
        key = context_key(policy)
        async with self._store.transaction() as tx:
            same = await tx.policies.find(tenant, context_key=key)
            number = max((r.number for r in same), default=0) + 1
            record = PolicyRecord(
                urn=self._ids.new("policy"),
                airline_urn=tenant.airline_urn,
                name=policy.name,
                context_key=key,
                number=number,
                document=json.loads(json.dumps(unstructure(policy))),  # plain JSON
                state=PolicyState.DRAFT,
                airport=policy.context.airport,
                country=policy.context.country,
                created_at=self._clock.now(),
            )
            record = await tx.policies.add(tenant, record)
            await self._audit(tx, tenant, "policy.create", record, {}, reason)
        return record

    async def record_ad_hoc(
        self, tenant: TenantContext, policy: Policy, *, source: str
    ) -> PolicyRecord:
        """The ``AD_HOC`` version holding ``policy`` (stored the first time this document is
        seen in its context, audited as ``policy.ad-hoc`` with ``source`` as the reason)."""
        key = context_key(policy)
        document = json.loads(json.dumps(unstructure(policy)))
        async with self._store.transaction() as tx:
            same = await tx.policies.find(tenant, context_key=key)
            for r in same:
                if r.state is PolicyState.AD_HOC and dict(r.document) == document:
                    return r
            record = PolicyRecord(
                urn=self._ids.new("policy"),
                airline_urn=tenant.airline_urn,
                name=policy.name,
                context_key=key,
                number=max((r.number for r in same), default=0) + 1,
                document=document,
                state=PolicyState.AD_HOC,
                airport=policy.context.airport,
                country=policy.context.country,
                created_at=self._clock.now(),
            )
            record = await tx.policies.add(tenant, record)
            await self._audit(tx, tenant, "policy.ad-hoc", record, {}, source)
        return record

    async def activate(self, tenant: TenantContext, urn: Urn, *, reason: str) -> PolicyRecord:
        """Make a DRAFT (or, as a rollback, an ARCHIVED) version ACTIVE.

        Every other ACTIVE version with the same context key is archived first.
        Raises :class:`IllegalTransitionError` for an already ACTIVE version.
        """
        async with self._store.transaction() as tx:
            record = await tx.policies.get(tenant, urn)
            action = (
                "policy.rollback" if record.state is PolicyState.ARCHIVED else "policy.activate"
            )
            target = record.transition(PolicyState.ACTIVE)
            active = await tx.policies.find(
                tenant, context_key=record.context_key, state=PolicyState.ACTIVE
            )
            for previous in active:
                if previous.urn == record.urn:
                    continue
                archived = await tx.policies.update(
                    tenant, previous.transition(PolicyState.ARCHIVED)
                )
                await self._audit(
                    tx,
                    tenant,
                    "policy.archive",
                    archived,
                    _view(previous),
                    f"superseded by {record.urn} v{record.number}: {reason}",
                )
            updated = await tx.policies.update(tenant, target)
            await self._audit(tx, tenant, action, updated, _view(record), reason)
        return updated

    async def rollback(self, tenant: TenantContext, urn: Urn, *, reason: str) -> PolicyRecord:
        """Re-activate an ARCHIVED version (the current ACTIVE one is archived)."""
        record = await self._store.policies.get(tenant, urn)
        if record.state is not PolicyState.ARCHIVED:
            raise IllegalTransitionError(
                f"only an ARCHIVED version can be rolled back to; {urn} is {record.state.value}",
                machine="policy",
                source=record.state.value,
                target=PolicyState.ACTIVE.value,
                urn=str(urn),
            )
        return await self.activate(tenant, urn, reason=reason)

    async def archive(self, tenant: TenantContext, urn: Urn, *, reason: str) -> PolicyRecord:
        """Retire an ACTIVE version (its context then falls back to less specific ones)."""
        async with self._store.transaction() as tx:
            record = await tx.policies.get(tenant, urn)
            updated = await tx.policies.update(tenant, record.transition(PolicyState.ARCHIVED))
            await self._audit(tx, tenant, "policy.archive", updated, _view(record), reason)
        return updated

    async def get(self, tenant: TenantContext, urn: Urn) -> tuple[PolicyRecord, Policy]:
        """A stored version and its policy."""
        record = await self._store.policies.get(tenant, urn)
        return record, policy_from_record(record)

    async def records(
        self, tenant: TenantContext, *, state: PolicyState | None = None
    ) -> list[PolicyRecord]:
        """The tenant's stored versions (all, or those in ``state``), oldest first."""
        if state is None:
            records = await self._store.policies.find(tenant)
        else:
            records = await self._store.policies.find(tenant, state=state)
        return sorted(records, key=lambda r: (r.created_at is None, r.created_at, r.number))

    async def versions(
        self, tenant: TenantContext, *, state: PolicyState | None = None
    ) -> list[PolicyVersion]:
        """The tenant's versions (all, or those in ``state``) as resolution candidates."""
        if state is None:
            records = await self._store.policies.find(tenant)
        else:
            records = await self._store.policies.find(tenant, state=state)
        return [PolicyVersion(policy_from_record(r), r.urn, r.number, r.state) for r in records]

    async def history(self, tenant: TenantContext, urn: Urn) -> list[AuditEntry]:
        """The audit trail of one version, oldest first."""
        return await self._store.audit.query(tenant, AuditQuery(entity_urn=urn))

    async def resolve(
        self,
        tenant: TenantContext,
        *,
        tier: Tier,
        airport: str | None = None,
        airline: str | None = None,
        country: str | None = None,
    ) -> Resolved:
        """The ACTIVE version that applies (``NoPolicyMatchError`` when none).

        ``airline`` defaults to the tenant's airline code.
        """
        candidates = await self.versions(tenant, state=PolicyState.ACTIVE)
        return resolve(
            candidates,
            tier=tier,
            airport=airport,
            airline=airline or tenant.airline_urn.id,
            country=country,
        )

    async def resolve_case(
        self,
        tenant: TenantContext,
        *,
        tiers: Iterable[Tier],
        airport: str | None = None,
        country: str | None = None,
    ) -> Resolved:
        """The one ACTIVE version a new case of the tenant at ``airport`` runs under.

        Every tier among the case's passengers is resolved by the scope order (most
        specific first); they must all land on the same version. Raises
        :class:`NoPolicyMatchError` when a tier has no policy or the tiers disagree.
        """
        wanted = sorted(set(tiers), key=list(Tier).index)
        if not wanted:
            raise InvalidInputError("a case needs at least one passenger tier", field="tiers")
        candidates = await self.versions(tenant, state=PolicyState.ACTIVE)
        airline = tenant.airline_urn.id
        found = {
            t: resolve(candidates, tier=t, airport=airport, airline=airline, country=country)
            for t in wanted
        }
        versions = {r.version.urn for r in found.values()}
        if len(versions) > 1:
            split = ", ".join(f"{t.value} → {r.version.label}" for t, r in found.items())
            raise NoPolicyMatchError(
                f"the case's tiers resolve to different policy versions ({split}); a case "
                "runs under one policy: activate a version covering all of them",
                airport=airport,
                airline=airline,
                review_category="POLICY_VIOLATION",
            )
        return found[wanted[0]]

    async def explain(
        self,
        tenant: TenantContext,
        *,
        tier: Tier,
        airport: str | None = None,
        airline: str | None = None,
        country: str | None = None,
    ) -> Explanation:
        """Like :meth:`resolve` but over every version, saying why each one lost."""
        return explain(
            await self.versions(tenant),
            tier=tier,
            airport=airport,
            airline=airline or tenant.airline_urn.id,
            country=country,
        )
