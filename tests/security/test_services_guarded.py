"""Guarded services against the in-memory store: airports, passengers, auditors, denials audited."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from nexa_adapters.memory import MemoryStore
from nexa_core.auth import (
    AuditDenialSink,
    Principal,
    PrincipalKind,
    Role,
    check_airport,
    install_denial_sink,
    tenant_of,
)
from nexa_core.errors import NotFoundError, PermissionDeniedError
from nexa_core.model import CaseStatus
from nexa_core.ports import AuditQuery
from nexa_core.runtime import FixedClock, SequentialIds
from nexa_core.services.audit_trail import audit_trail
from nexa_core.services.case_access import (
    close_case,
    get_case,
    list_cases,
    partner_case_status,
    transition_case,
)
from nexa_core.tenancy import TenantContext
from nexa_core.testing.builders import make_case
from nexa_core.tracing import correlation_scope
from nexa_core.urn import Urn

pytestmark = pytest.mark.anyio

LAN = Urn("airline", "LAN")
TAM = Urn("airline", "TAM")


def op(*roles: Role, airports: set[str] | None = None, airline: Urn = LAN) -> Principal:
    return Principal(PrincipalKind.OPERATOR, Urn("user", "u-1"), airline, roles, airports)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def ids() -> SequentialIds:
    return SequentialIds()


@pytest.fixture
def store(clock: FixedClock, ids: SequentialIds) -> Iterator[MemoryStore]:
    s = MemoryStore(clock=clock.now)
    previous = install_denial_sink(AuditDenialSink(s.audit, clock, ids))
    yield s
    install_denial_sink(previous)


async def _seed(store: MemoryStore) -> None:
    sys = TenantContext.system(LAN)
    await store.cases.add(sys, make_case("c-scl", airport="SCL"))
    await store.cases.add(sys, make_case("c-gru", airport="GRU"))
    await store.cases.add(TenantContext.system(TAM), make_case("c-tam", airline="TAM"))


async def _denials(store: MemoryStore) -> list[str]:
    entries = await store.audit.query(TenantContext.system(LAN), AuditQuery(action="auth.denied"))
    return [e.reason for e in entries]


async def test_an_airport_limited_operator_reads_its_airport_only(store: MemoryStore) -> None:
    await _seed(store)
    scl_only = op(Role.AIRPORT_OPERATOR, airports={"SCL"})
    assert (await get_case(store, Urn("case", "c-scl"), principal=scl_only)).urn.id == "c-scl"
    with pytest.raises(PermissionDeniedError, match="airport"):
        await get_case(store, Urn("case", "c-gru"), principal=scl_only)
    assert [c.urn.id for c in await list_cases(store, principal=scl_only, airport="SCL")] == [
        "c-scl"
    ]
    with pytest.raises(PermissionDeniedError):
        await list_cases(store, principal=scl_only, airport="GRU")
    with pytest.raises(PermissionDeniedError):
        await list_cases(store, principal=scl_only)
    reasons = await _denials(store)
    assert len(reasons) == 3 and all("airport" in r for r in reasons)


async def test_an_unrestricted_operator_lists_every_airport(store: MemoryStore) -> None:
    await _seed(store)
    cases = await list_cases(store, principal=op(Role.AIRPORT_OPERATOR))
    assert [c.urn.id for c in cases] == ["c-gru", "c-scl"]


async def test_a_write_at_a_foreign_airport_is_denied_and_nothing_changes(
    store: MemoryStore, clock: FixedClock, ids: SequentialIds
) -> None:
    await _seed(store)
    scl_only = op(Role.OPS_SUPERVISOR, airports={"SCL"})
    with pytest.raises(PermissionDeniedError):
        await transition_case(
            store, clock, ids, Urn("case", "c-gru"), CaseStatus.ALLOCATING, "go", principal=scl_only
        )
    case = await store.cases.get(TenantContext.system(LAN), Urn("case", "c-gru"))
    assert case.status is CaseStatus.OPEN and case.version == 1
    assert await store.outbox.read_after(0) == []
    audit = await store.audit.query(TenantContext.system(LAN), AuditQuery())
    assert [e.action for e in audit] == ["auth.denied"]
    assert audit[0].entity_urn == Urn("case", "c-gru")


async def test_a_transition_writes_state_audit_and_a_correlated_event(
    store: MemoryStore, clock: FixedClock, ids: SequentialIds
) -> None:
    await _seed(store)
    corr = Urn("correlation", "4bf92f3577b34da6a3ce929d0e0e4736")
    with correlation_scope(corr):
        moved = await transition_case(
            store,
            clock,
            ids,
            Urn("case", "c-scl"),
            CaseStatus.ALLOCATING,
            "hotels needed",
            principal=op(Role.AIRPORT_OPERATOR, airports={"SCL"}),
        )
    assert moved.status is CaseStatus.ALLOCATING and moved.version == 2
    [entry] = await store.audit.query(TenantContext.system(LAN), AuditQuery())
    assert entry.correlation_urn == corr and entry.actor.role == "AIRPORT_OPERATOR"
    assert entry.before == {"status": "OPEN"} and entry.after == {"status": "ALLOCATING"}
    [record] = await store.outbox.read_after(0)
    assert record.event.correlation_urn == corr


async def test_operators_cannot_close_but_supervisors_can(
    store: MemoryStore, clock: FixedClock, ids: SequentialIds
) -> None:
    await _seed(store)
    with pytest.raises(PermissionDeniedError):
        await close_case(
            store, clock, ids, Urn("case", "c-scl"), "done", principal=op(Role.AIRPORT_OPERATOR)
        )
    closed = await close_case(
        store, clock, ids, Urn("case", "c-scl"), "done", principal=op(Role.OPS_SUPERVISOR)
    )
    assert closed.status is CaseStatus.CLOSED


async def test_finance_audit_reads_but_never_writes(
    store: MemoryStore, clock: FixedClock, ids: SequentialIds
) -> None:
    await _seed(store)
    finance = op(Role.FINANCE_AUDIT)
    assert (await get_case(store, Urn("case", "c-scl"), principal=finance)).urn.id == "c-scl"
    with pytest.raises(PermissionDeniedError):
        await transition_case(
            store, clock, ids, Urn("case", "c-scl"), CaseStatus.ALLOCATING, "x", principal=finance
        )
    trail = await audit_trail(store, principal=finance)
    assert [e.action for e in trail] == ["auth.denied"]
    with pytest.raises(PermissionDeniedError):
        await audit_trail(store, principal=op(Role.OPS_SUPERVISOR))


async def test_a_passenger_token_reads_only_its_own_case(store: MemoryStore) -> None:
    await _seed(store)
    pax = Principal(
        PrincipalKind.PASSENGER, Urn("passenger", "p-1"), LAN, case_urn=Urn("case", "c-scl")
    )
    assert (await get_case(store, Urn("case", "c-scl"), principal=pax)).urn.id == "c-scl"
    with pytest.raises(PermissionDeniedError):
        await get_case(store, Urn("case", "c-gru"), principal=pax)
    with pytest.raises(PermissionDeniedError):
        await list_cases(store, principal=pax)


async def test_partners_need_the_declared_scope(store: MemoryStore) -> None:
    await _seed(store)
    scoped = Principal(PrincipalKind.PARTNER, Urn("user", "partner.x"), LAN, scopes={"cases:read"})
    bare = Principal(PrincipalKind.PARTNER, Urn("user", "partner.y"), LAN)
    status = await partner_case_status(store, Urn("case", "c-scl"), principal=scoped)
    assert status is CaseStatus.OPEN
    with pytest.raises(PermissionDeniedError):
        await partner_case_status(store, Urn("case", "c-scl"), principal=bare)
    with pytest.raises(PermissionDeniedError):
        await get_case(store, Urn("case", "c-scl"), principal=scoped)


async def test_another_tenants_case_is_not_found_for_every_service(
    store: MemoryStore, clock: FixedClock, ids: SequentialIds
) -> None:
    await _seed(store)
    admin = op(Role.ADMIN)
    tam_case = Urn("case", "c-tam")
    for call in (
        get_case(store, tam_case, principal=admin),
        partner_case_status(store, tam_case, principal=admin),
        transition_case(store, clock, ids, tam_case, CaseStatus.ALLOCATING, "x", principal=admin),
        close_case(store, clock, ids, tam_case, "x", principal=admin),
    ):
        with pytest.raises(NotFoundError):
            await call
    assert [c.urn.id for c in await list_cases(store, principal=admin)] == ["c-gru", "c-scl"]
    tam = await store.cases.get(TenantContext.system(TAM), tam_case)
    assert tam.version == 1 and tam.status is CaseStatus.OPEN


async def test_a_failing_denial_sink_never_turns_a_denial_into_an_allow() -> None:
    class Broken:
        async def record(self, denial: object) -> None:
            raise RuntimeError("audit down")

    previous = install_denial_sink(Broken())
    try:
        with pytest.raises(PermissionDeniedError):
            await close_case(
                object(),
                object(),
                object(),
                Urn("case", "c-1"),
                "x",
                principal=op(),  # type: ignore[arg-type]
            )
    finally:
        install_denial_sink(previous)


def test_check_airport_and_tenant_of() -> None:
    p = op(Role.AIRPORT_OPERATOR, airports={"scl"})
    assert p.airports == frozenset({"SCL"})
    check_airport(p, Urn("airport", "SCL"))
    check_airport(p, "scl")
    for bad in ("GRU", None, "S C", Urn("case", "c-1")):
        with pytest.raises(PermissionDeniedError):
            check_airport(p, bad)
    tenant = tenant_of(p)
    assert tenant.airline_urn == LAN and tenant.airports == frozenset({"SCL"})
    assert tenant.actor.urn == p.subject and tenant.actor.role == "AIRPORT_OPERATOR"


def test_misdeclared_services_fail_at_import_time() -> None:
    from nexa_core.auth import requires
    from nexa_core.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="no parameter 'principal'"):

        @requires(Role.ADMIN)
        async def no_principal(store: object) -> None:  # pragma: no cover
            return None

    with pytest.raises(ConfigurationError, match="async"):

        @requires(Role.ADMIN)
        def sync_service(*, principal: Principal) -> None:  # type: ignore[arg-type]  # pragma: no cover
            return None

    with pytest.raises(ConfigurationError, match="case_arg"):
        requires(Role.ADMIN, passengers=True)
    with pytest.raises(ConfigurationError, match="no parameter 'airport'"):

        @requires(Role.ADMIN, airport_arg="airport")
        async def no_airport(*, principal: Principal) -> None:  # pragma: no cover
            return None


def test_documents_naming_another_airline_are_not_found() -> None:
    from nexa_core.tenancy import require_same_tenant

    tenant = tenant_of(op(Role.ADMIN))
    require_same_tenant(tenant, LAN)
    with pytest.raises(NotFoundError):
        require_same_tenant(tenant, TAM, what="manifest")


def test_principals_reject_a_non_airline_tenant() -> None:
    from nexa_core.errors import AuthenticationError

    with pytest.raises(AuthenticationError):
        Principal(PrincipalKind.OPERATOR, Urn("user", "u"), Urn("case", "c-1"))
