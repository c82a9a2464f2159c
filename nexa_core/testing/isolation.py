"""A tenant-isolation state machine every store adapter can run.

Two tenants, random operations, one model: no read or write ever crosses tenants. The
hypothesis rule-based machine drives an operational store, a snapshot store (optional)
and the guarded case services with two airlines. Every cross-tenant access must behave
exactly like a missing record (NotFoundError) and leave the other tenant's data
unchanged; every ``find`` must return precisely the caller's records. Subclass it::

    class MyStoreIsolation(TenantIsolationMachine):
        async def make_store(self, clock):
            return await MyStore.connect(..., clock=clock.now)

    MyStoreIsolation.TestCase.settings = ISOLATION_SETTINGS
    test_my_store_isolation = MyStoreIsolation.TestCase
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any, TypeVar

import attrs
import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    invariant,
    precondition,
    rule,
)

from nexa_core.auth import Principal, PrincipalKind, Role
from nexa_core.errors import NotFoundError
from nexa_core.model import Actor, AuditEntry, CaseStatus, DomainEvent
from nexa_core.ports import AuditQuery
from nexa_core.runtime import FixedClock, SequentialIds
from nexa_core.services.audit_trail import audit_trail
from nexa_core.services.case_access import get_case, list_cases, transition_case
from nexa_core.tenancy import TenantContext
from nexa_core.testing.samples import SAMPLES, sample
from nexa_core.urn import Urn

__all__ = ["ISOLATION_SETTINGS", "TENANTS", "TenantIsolationMachine"]

T = TypeVar("T")
TENANTS = ("LAN", "TAM")
TABLES = sorted(SAMPLES)


def ctx(tenant: str) -> TenantContext:
    return TenantContext.system(Urn("airline", tenant))


def admin(tenant: str) -> Principal:
    return Principal(
        PrincipalKind.OPERATOR,
        Urn("user", f"admin-{tenant}"),
        Urn("airline", tenant),
        frozenset({Role.ADMIN}),
    )


def other(tenant: str) -> str:
    return TENANTS[1 - TENANTS.index(tenant)]


@attrs.frozen
class Rec:
    table: str
    urn: Urn
    owner: str


class TenantIsolationMachine(RuleBasedStateMachine):
    """Subclass and implement :meth:`make_store` (and :meth:`make_snapshots`)."""

    records = Bundle("records")

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.clock = FixedClock()
        self.ids = SequentialIds()
        self.store: Any = self.run(self.make_store(self.clock))
        self.snapshots: Any = self.run(self.make_snapshots())
        self.n = 0
        self.model: dict[tuple[str, str], tuple[str, int]] = {}  # (table, urn) → owner, version
        self.audit_model: dict[str, list[str]] = {t: [] for t in TENANTS}
        self.snap_model: dict[tuple[str, str], dict[str, Any]] = {}
        self.idem_model: dict[tuple[str, str], dict[str, str]] = {}

    def run(self, aw: Awaitable[T]) -> T:
        async def wrapped() -> T:
            return await aw

        return self.loop.run_until_complete(wrapped())

    async def make_store(self, clock: FixedClock) -> Any:
        """A fresh, empty operational store using ``clock``."""
        raise NotImplementedError

    async def make_snapshots(self) -> Any:
        """A fresh snapshot store, or ``None`` to skip the snapshot rules."""
        return None

    async def close(self) -> None:
        """Release what the factories opened (called at teardown)."""
        closer = getattr(self.store, "close", None)
        if closer is not None:
            await closer()

    def teardown(self) -> None:
        try:
            self.run(self.close())
        finally:
            self.loop.close()

    def _not_found(self, coro: Awaitable[Any]) -> None:
        with pytest.raises(NotFoundError):
            self.run(coro)

    # ------------------------------------------------------------ aggregates

    @rule(target=records, table=st.sampled_from(TABLES), owner=st.sampled_from(TENANTS))
    def add(self, table: str, owner: str) -> Rec:
        self.n += 1
        item = sample(table, f"{owner.lower()}{self.n}", airline=owner)
        stored = self.run(getattr(self.store, table).add(ctx(owner), item))
        self.model[(table, str(item.urn))] = (owner, stored.version)
        return Rec(table, item.urn, owner)

    @rule(rec=records)
    def owner_reads(self, rec: Rec) -> None:
        got = self.run(getattr(self.store, rec.table).get(ctx(rec.owner), rec.urn))
        assert got.airline_urn.id == rec.owner
        assert got.version == self.model[(rec.table, str(rec.urn))][1]

    @rule(rec=records)
    def stranger_reads(self, rec: Rec) -> None:
        self._not_found(getattr(self.store, rec.table).get(ctx(other(rec.owner)), rec.urn))

    @rule(rec=records)
    def owner_updates(self, rec: Rec) -> None:
        repo = getattr(self.store, rec.table)
        current = self.run(repo.get(ctx(rec.owner), rec.urn))
        stored = self.run(repo.update(ctx(rec.owner), current))
        self.model[(rec.table, str(rec.urn))] = (rec.owner, stored.version)

    @rule(rec=records, rehome=st.booleans())
    def stranger_updates(self, rec: Rec, rehome: bool) -> None:
        repo = getattr(self.store, rec.table)
        current = self.run(repo.get(ctx(rec.owner), rec.urn))
        intruder = other(rec.owner)
        item = attrs.evolve(current, airline_urn=Urn("airline", intruder)) if rehome else current
        self._not_found(repo.update(ctx(intruder), item))

    @rule(rec=records)
    def stranger_adds_into_the_owners_tenant(self, rec: Rec) -> None:
        self.n += 1
        item = sample(rec.table, f"x{self.n}", airline=rec.owner)
        self._not_found(getattr(self.store, rec.table).add(ctx(other(rec.owner)), item))

    # ------------------------------------------------------------ services

    @rule(rec=records)
    def services_see_only_their_tenant(self, rec: Rec) -> None:
        if rec.table != "cases":
            return
        intruder = admin(other(rec.owner))
        self._not_found(get_case(self.store, rec.urn, principal=intruder))
        self._not_found(
            transition_case(
                self.store,
                self.clock,
                self.ids,
                rec.urn,
                CaseStatus.MANUAL_REVIEW,
                "x",
                principal=intruder,
            )
        )
        assert self.run(get_case(self.store, rec.urn, principal=admin(rec.owner))).urn == rec.urn

    @rule(rec=consumes(records))
    def owner_moves_a_case(self, rec: Rec) -> None:
        if rec.table != "cases":
            return
        moved = self.run(
            transition_case(
                self.store,
                self.clock,
                self.ids,
                rec.urn,
                CaseStatus.MANUAL_REVIEW,
                "review",
                principal=admin(rec.owner),
            )
        )
        self.model[(rec.table, str(rec.urn))] = (rec.owner, moved.version)
        self.audit_model[rec.owner].append("case.transition")

    # ------------------------------------------------------------ audit, outbox, idempotency

    @rule(owner=st.sampled_from(TENANTS), cross=st.booleans())
    def audit_append(self, owner: str, cross: bool) -> None:
        self.n += 1
        entry = AuditEntry(
            Urn("audit", f"a-{self.n}"),
            Urn("airline", owner),
            Actor(Urn("user", "u-1")),
            "test.action",
            Urn("case", "c-1"),
            "r",
            self.clock.now(),
        )
        if cross:
            self._not_found(self.store.audit.append(ctx(other(owner)), entry))
        else:
            self.run(self.store.audit.append(ctx(owner), entry))
            self.audit_model[owner].append("test.action")

    @rule(owner=st.sampled_from(TENANTS))
    def outbox_cross_append_is_refused(self, owner: str) -> None:
        self.n += 1
        event = DomainEvent(
            Urn("event", f"e-{self.n}"),
            Urn("airline", owner),
            "x",
            Urn("case", "c-1"),
            self.clock.now(),
        )
        self._not_found(self.store.outbox.append(ctx(other(owner)), event))

    @rule(owner=st.sampled_from(TENANTS), key=st.sampled_from(["EV-1", "EV-2"]))
    def idempotency_is_per_tenant(self, owner: str, key: str) -> None:
        self.n += 1
        result = {"n": str(self.n)}
        rec = self.run(self.store.idempotency.remember(ctx(owner), "case", key, result))
        first = self.idem_model.setdefault((owner, key), result)
        assert rec.result == first and rec.replayed == (first is not result)

    # ------------------------------------------------------------ snapshots

    def _has_snapshots(self) -> bool:
        return self.snapshots is not None

    @precondition(_has_snapshots)
    @rule(owner=st.sampled_from(TENANTS), sid=st.integers(1, 3), value=st.integers(0, 9))
    def snapshot_put(self, owner: str, sid: int, value: int) -> None:
        urn = Urn("sub-case", f"sc-{sid}")
        self.run(self.snapshots.put(ctx(owner), urn, {"v": value}))
        self.snap_model[(owner, str(urn))] = {"v": value}

    @precondition(_has_snapshots)
    @rule(owner=st.sampled_from(TENANTS), sid=st.integers(1, 3))
    def snapshot_delete(self, owner: str, sid: int) -> None:
        urn = Urn("sub-case", f"sc-{sid}")
        self.run(self.snapshots.delete(ctx(owner), urn))
        self.snap_model.pop((owner, str(urn)), None)

    # ------------------------------------------------------------ invariants

    @invariant()
    def each_tenant_finds_exactly_its_records(self) -> None:
        for tenant in TENANTS:
            for table in TABLES:
                found = self.run(getattr(self.store, table).find(ctx(tenant)))
                want = sorted(
                    urn
                    for (t, urn), (owner, _) in self.model.items()
                    if t == table and owner == tenant
                )
                assert sorted(str(r.urn) for r in found) == want
                assert all(r.airline_urn.id == tenant for r in found)

    @invariant()
    def each_tenant_audits_only_its_actions(self) -> None:
        for tenant in TENANTS:
            entries = self.run(self.store.audit.query(ctx(tenant), AuditQuery()))
            assert all(e.airline_urn.id == tenant for e in entries)
            assert [e.action for e in entries] == self.audit_model[tenant]
            trail = self.run(audit_trail(self.store, principal=admin(tenant)))
            assert trail == entries

    @invariant()
    def list_cases_is_tenant_scoped(self) -> None:
        for tenant in TENANTS:
            cases = self.run(list_cases(self.store, principal=admin(tenant)))
            assert all(c.airline_urn.id == tenant for c in cases)

    @invariant()
    def snapshots_are_tenant_scoped(self) -> None:
        if self.snapshots is None:
            return
        for tenant in TENANTS:
            for sid in (1, 3):
                urn = Urn("sub-case", f"sc-{sid}")
                want = self.snap_model.get((tenant, str(urn)))
                if want is None:
                    self._not_found(self.snapshots.get(ctx(tenant), urn))
                else:
                    assert dict(self.run(self.snapshots.get(ctx(tenant), urn))) == want


#: bounded for CI; apply to a subclass with ``MyIsolation.TestCase.settings = ISOLATION_SETTINGS``
ISOLATION_SETTINGS = settings(max_examples=20, stateful_step_count=25, deadline=None)
