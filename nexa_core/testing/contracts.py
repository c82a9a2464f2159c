"""Contract suites for store ports, shipped so every adapter proves the same behaviour.

Subclass a suite and provide the fixtures it names. All tests are async (anyio).
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from datetime import timedelta
from typing import Any

import attrs
import pytest

from nexa_core.errors import (
    ConcurrencyError,
    ConflictError,
    DuplicateError,
    InvalidInputError,
    NotFoundError,
    PIIRejectedError,
)
from nexa_core.model import Actor, AuditEntry, DomainEvent
from nexa_core.ports import AuditQuery, OperationalStore
from nexa_core.runtime import FixedClock
from nexa_core.tenancy import TenantContext
from nexa_core.testing.samples import SAMPLES, sample
from nexa_core.urn import Urn

__all__ = [
    "STORE_OBJECTS",
    "SYSTEM_LEVEL_METHODS",
    "OperationalStoreContract",
    "SnapshotStoreContract",
]

LAN = TenantContext.system("urn:airline:LAN")
TAM = TenantContext.system("urn:airline:TAM")
TABLES = sorted(SAMPLES)

#: the store objects of an OperationalStore (its properties), found by introspection
STORE_OBJECTS: tuple[str, ...] = tuple(
    sorted(n for n, v in vars(OperationalStore).items() if isinstance(v, property))
)

#: methods that are system-level by contract (no tenant argument): only relays call them
SYSTEM_LEVEL_METHODS = frozenset(
    {
        ("outbox", "read_after"),
        ("outbox", "head"),
        ("outbox", "load_position"),
        ("outbox", "save_position"),
    }
)

_Probe = Callable[[Any, str, dict[str, Any]], Awaitable[None]]


def _public_methods(obj: Any) -> list[str]:
    """Public callables of a store object, including ones a proxy forwards via ``__dir__``."""
    names = {
        n
        for n, v in inspect.getmembers(type(obj))
        if not n.startswith("_") and (inspect.isfunction(v) or inspect.ismethod(v))
    }
    for n in dir(obj):
        if not n.startswith("_") and n not in names and callable(getattr(obj, n, None)):
            names.add(n)
    return sorted(names)


def _kind(name: str) -> str:
    return "aggregate" if name in SAMPLES else name


async def _expect_refused(call: Awaitable[Any]) -> None:
    with pytest.raises((NotFoundError, ConflictError)):
        await call


async def _probe_add(repo: Any, name: str, lan: dict[str, Any]) -> None:
    mine = lan[name]
    await _expect_refused(repo.add(TAM, mine))
    with pytest.raises(NotFoundError):
        await repo.add(TAM, mine)
    await _expect_refused(repo.add(TAM, attrs.evolve(mine, airline_urn=TAM.airline_urn)))


async def _probe_get(repo: Any, name: str, lan: dict[str, Any]) -> None:
    with pytest.raises(NotFoundError):
        await repo.get(TAM, lan[name].urn)


async def _probe_update(repo: Any, name: str, lan: dict[str, Any]) -> None:
    mine = lan[name]
    with pytest.raises(NotFoundError):
        await repo.update(TAM, mine)
    with pytest.raises(NotFoundError):
        await repo.update(TAM, attrs.evolve(mine, airline_urn=TAM.airline_urn))


async def _probe_find(repo: Any, name: str, lan: dict[str, Any]) -> None:
    assert await repo.find(TAM) == []
    for field in repo.indexed:
        assert await repo.find(TAM, **{field: getattr(lan[name], field)}) == []


async def _probe_audit_append(audit: Any, _: str, lan: dict[str, Any]) -> None:
    with pytest.raises(NotFoundError):
        await audit.append(TAM, lan["audit"])


async def _probe_audit_query(audit: Any, _: str, lan: dict[str, Any]) -> None:
    entry = lan["audit"]
    assert await audit.query(TAM, AuditQuery()) == []
    assert await audit.query(TAM, AuditQuery(entity_urn=entry.entity_urn)) == []
    assert await audit.query(TAM, AuditQuery(correlation_urn=entry.correlation_urn)) == []
    assert await audit.query(TAM, AuditQuery(action=entry.action)) == []


async def _probe_remember(idem: Any, _: str, lan: dict[str, Any]) -> None:
    theirs = await idem.remember(TAM, "guard", "EV-1", {"who": "TAM"})
    assert not theirs.replayed and theirs.result == {"who": "TAM"}


async def _probe_lookup(idem: Any, _: str, lan: dict[str, Any]) -> None:
    assert await idem.lookup(TAM, "guard", "EV-2") is None


async def _probe_outbox_append(outbox: Any, _: str, lan: dict[str, Any]) -> None:
    with pytest.raises(NotFoundError):
        await outbox.append(TAM, lan["event"])


#: (kind, method) → a probe calling the method as TAM against LAN's rows
_PROBES: dict[tuple[str, str], _Probe] = {
    ("aggregate", "add"): _probe_add,
    ("aggregate", "get"): _probe_get,
    ("aggregate", "update"): _probe_update,
    ("aggregate", "find"): _probe_find,
    ("audit", "append"): _probe_audit_append,
    ("audit", "query"): _probe_audit_query,
    ("idempotency", "remember"): _probe_remember,
    ("idempotency", "lookup"): _probe_lookup,
    ("outbox", "append"): _probe_outbox_append,
}


def _audit(n: int, tenant: TenantContext, clock: FixedClock, **kw: Any) -> AuditEntry:
    return AuditEntry(
        urn=Urn("audit", f"a-{n}"),
        airline_urn=tenant.airline_urn,
        actor=Actor(Urn("user", "u-1"), "OPS_SUPERVISOR"),
        action=kw.pop("action", "case.transition"),
        entity_urn=kw.pop("entity_urn", Urn("case", "c-1")),
        reason=kw.pop("reason", "test"),
        at=kw.pop("at", clock.now()),
        correlation_urn=kw.pop("correlation_urn", None),
        before=kw.pop("before", {"status": "OPEN"}),
        after=kw.pop("after", {"status": "ALLOCATING"}),
    )


def _event(n: int, tenant: TenantContext, clock: FixedClock) -> DomainEvent:
    return DomainEvent(
        Urn("event", f"e-{n}"),
        tenant.airline_urn,
        "case.created",
        Urn("case", "c-1"),
        clock.now(),
        data={"n": n},
        key=f"k-{n}",
    )


_CARD = "4111 1111 1111 1111"


def _with_card_number(item: Any) -> Any:
    """``item`` with a card number in its first free-text field (``None`` if it has none)."""
    for field in attrs.fields(type(item)):
        value = getattr(item, field.name)
        if isinstance(value, str):
            poison: Any = f"note {_CARD}"
        elif isinstance(value, Mapping):
            poison = {**value, "note": _CARD}
        else:
            continue
        try:
            return attrs.evolve(item, **{field.name: poison})
        except Exception:
            continue
    return None


@pytest.mark.anyio
class OperationalStoreContract:
    """Every :class:`~nexa_core.ports.OperationalStore` passes this.

    Provide a ``store`` fixture (an empty store whose clock is the ``clock`` fixture).
    """

    @pytest.fixture
    def anyio_backend(self) -> str:
        return "asyncio"

    @pytest.fixture
    def clock(self) -> FixedClock:
        return FixedClock()

    @pytest.fixture
    async def store(self, clock: FixedClock) -> AsyncIterator[Any]:  # pragma: no cover
        raise NotImplementedError("subclasses provide a store fixture")
        yield

    # ------------------------------------------------------------ aggregates

    @pytest.mark.parametrize("table", TABLES)
    async def test_add_then_get_round_trips_at_version_one(self, store: Any, table: str) -> None:
        item = sample(table)
        stored = await getattr(store, table).add(LAN, item)
        assert stored.version == 1
        got = await getattr(store, table).get(LAN, item.urn)
        assert got == attrs.evolve(item, version=1)

    @pytest.mark.parametrize("table", TABLES)
    async def test_adding_the_same_urn_twice_is_a_duplicate(self, store: Any, table: str) -> None:
        repo = getattr(store, table)
        await repo.add(LAN, sample(table))
        with pytest.raises(DuplicateError):
            await repo.add(LAN, sample(table))

    @pytest.mark.parametrize("table", TABLES)
    async def test_update_bumps_version_and_stale_update_changes_nothing(
        self, store: Any, table: str
    ) -> None:
        repo = getattr(store, table)
        v1 = await repo.add(LAN, sample(table))
        v2 = await repo.update(LAN, v1)
        assert v2.version == 2
        with pytest.raises(ConcurrencyError):
            await repo.update(LAN, v1)
        assert (await repo.get(LAN, v1.urn)).version == 2

    @pytest.mark.parametrize("table", TABLES)
    async def test_other_tenant_sees_nothing_and_changes_nothing(
        self, store: Any, table: str
    ) -> None:
        repo = getattr(store, table)
        mine = await repo.add(LAN, sample(table))
        with pytest.raises(NotFoundError):
            await repo.get(TAM, mine.urn)
        with pytest.raises(NotFoundError):
            await repo.update(TAM, attrs.evolve(mine, airline_urn=TAM.airline_urn))
        with pytest.raises(NotFoundError):
            await repo.update(TAM, mine)
        with pytest.raises(NotFoundError):
            await repo.add(TAM, sample(table, "2"))
        assert await repo.find(TAM) == []
        assert (await repo.get(LAN, mine.urn)) == mine

    @pytest.mark.parametrize("table", TABLES)
    async def test_find_filters_by_indexed_fields_and_rejects_others(
        self, store: Any, table: str
    ) -> None:
        repo = getattr(store, table)
        a = await repo.add(LAN, sample(table, "1"))
        b = await repo.add(LAN, sample(table, "2"))
        assert [r.urn for r in await repo.find(LAN)] == sorted([a.urn, b.urn], key=str)
        assert len(await repo.find(LAN, limit=1)) == 1
        field = repo.indexed[0]
        hits = await repo.find(LAN, **{field: getattr(a, field)})
        assert a.urn in [h.urn for h in hits]
        with pytest.raises(InvalidInputError):
            await repo.find(LAN, no_such_field="x")

    async def _lan_rows(self, store: Any, clock: FixedClock) -> dict[str, Any]:
        rows: dict[str, Any] = {t: await getattr(store, t).add(LAN, sample(t)) for t in TABLES}
        corr = Urn("correlation", "4bf92f3577b34da6a3ce929d0e0e4736")
        rows["audit"] = await store.audit.append(LAN, _audit(1, LAN, clock, correlation_urn=corr))
        rows["event"] = _event(1, LAN, clock)
        await store.outbox.append(LAN, rows["event"])
        await store.idempotency.remember(LAN, "guard", "EV-1", {"who": "LAN"})
        await store.idempotency.remember(LAN, "guard", "EV-2", {"who": "LAN"})
        return rows

    async def _lan_view(self, store: Any) -> list[Any]:
        return [
            *[await getattr(store, t).find(LAN) for t in TABLES],
            await store.audit.query(LAN, AuditQuery()),
            await store.idempotency.lookup(LAN, "guard", "EV-1"),
            await store.idempotency.lookup(LAN, "guard", "EV-2"),
            [r for r in await store.outbox.read_after(0) if r.event.airline_urn == LAN.airline_urn],
        ]

    @pytest.mark.parametrize("in_transaction", [False, True])
    async def test_no_public_method_reaches_another_tenants_rows(
        self, store: Any, clock: FixedClock, in_transaction: bool
    ) -> None:
        """Every public method of every store object, found by introspection, is probed
        as tenant TAM against LAN's rows; a method without a probe fails the test."""
        lan = await self._lan_rows(store, clock)
        before = await self._lan_view(store)
        tenant_free: set[tuple[str, str]] = set()

        async def probe_all(target: Any) -> None:
            for name in STORE_OBJECTS:
                obj = getattr(target, name)
                for method in _public_methods(obj):
                    params = inspect.signature(getattr(obj, method)).parameters
                    if "tenant" not in params:
                        tenant_free.add((name, method))
                        continue
                    probe = _PROBES.get((_kind(name), method))
                    assert probe is not None, (
                        f"{type(obj).__name__}.{method} has no cross-tenant probe: add one "
                        "to nexa_core.testing.contracts._PROBES"
                    )
                    await probe(obj, name, lan)

        if in_transaction:
            async with store.transaction() as tx:
                await probe_all(tx)
        else:
            await probe_all(store)
        assert tenant_free == SYSTEM_LEVEL_METHODS
        assert await self._lan_view(store) == before

    async def test_a_card_number_in_an_event_is_refused_and_nothing_is_stored(
        self, store: Any, clock: FixedClock
    ) -> None:
        event = attrs.evolve(_event(1, LAN, clock), data={"note": "4111-1111-1111-1111"})
        with pytest.raises(PIIRejectedError):
            await store.outbox.append(LAN, event)
        assert await store.outbox.read_after(0) == []

    async def test_a_nested_transaction_joins_the_outer_one(
        self, store: Any, clock: FixedClock
    ) -> None:
        class Boom(Exception):
            pass

        with pytest.raises(Boom):
            async with store.transaction() as tx:
                async with tx.transaction() as inner:
                    await inner.cases.add(LAN, sample("cases"))
                raise Boom
        assert await store.cases.find(LAN) == []

    async def test_find_by_a_status_enum_and_by_a_urn_ignoring_its_status(self, store: Any) -> None:
        item = await store.reservations.add(LAN, sample("reservations"))
        assert [r.urn for r in await store.reservations.find(LAN, status=item.status)] == [item.urn]
        offer = Urn(item.offer_urn.entity, item.offer_urn.id, item.offer_urn.vendor, "held")
        assert len(await store.reservations.find(LAN, offer_urn=offer)) == 1
        assert await store.reservations.find(LAN, offer_urn=Urn("offer", "of-9")) == []

    async def test_idempotency_results_round_trip_as_json(self, store: Any) -> None:
        result = {"case": "urn:case:c-1", "n": 3, "ok": True, "items": [1, "a"], "none": None}
        await store.idempotency.remember(LAN, "case", "EV-j", result)
        assert (await store.idempotency.lookup(LAN, "case", "EV-j")).result == result

    async def test_a_card_number_is_refused_and_nothing_is_stored(self, store: Any) -> None:
        item = attrs.evolve(sample("reviews"), reason="card 4111 1111 1111 1111 refused")
        with pytest.raises(PIIRejectedError):
            await store.reviews.add(LAN, item)
        with pytest.raises(NotFoundError):
            await store.reviews.get(LAN, item.urn)

    @pytest.mark.parametrize("table", TABLES)
    async def test_every_table_refuses_a_card_number_on_add_and_update(
        self, store: Any, table: str
    ) -> None:
        repo = getattr(store, table)
        item = sample(table)
        poisoned = _with_card_number(item)
        if poisoned is None:
            pytest.skip(f"{table} has no free-text field")
        with pytest.raises(PIIRejectedError):
            await repo.add(LAN, poisoned)
        with pytest.raises(NotFoundError):
            await repo.get(LAN, item.urn)
        stored = await repo.add(LAN, item)
        with pytest.raises(PIIRejectedError):
            await repo.update(LAN, _with_card_number(stored))
        assert await repo.get(LAN, item.urn) == stored

    async def test_audit_idempotency_and_outbox_refuse_card_numbers(
        self, store: Any, clock: FixedClock
    ) -> None:
        with pytest.raises(PIIRejectedError):
            await store.audit.append(LAN, _audit(1, LAN, clock, reason=f"paid with {_CARD}"))
        with pytest.raises(PIIRejectedError):
            await store.audit.append(LAN, _audit(2, LAN, clock, after={"card": _CARD}))
        assert await store.audit.query(LAN, AuditQuery()) == []
        with pytest.raises(PIIRejectedError):
            await store.idempotency.remember(LAN, "card", "k-1", {"pan": _CARD})
        assert await store.idempotency.lookup(LAN, "card", "k-1") is None
        event = attrs.evolve(_event(1, LAN, clock), data={"note": _CARD})
        with pytest.raises(PIIRejectedError):
            await store.outbox.append(LAN, event)
        assert await store.outbox.read_after(0) == []

    async def test_status_segment_is_ignored_for_identity(self, store: Any) -> None:
        item = await store.reservations.add(LAN, sample("reservations"))
        confirmed = Urn(item.urn.entity, item.urn.id, None, "confirmed")
        assert (await store.reservations.get(LAN, confirmed)).urn == item.urn

    # ------------------------------------------------------------ audit

    async def test_audit_is_append_only(self, store: Any) -> None:
        for name in ("update", "delete", "remove", "clear"):
            assert not hasattr(store.audit, name)

    async def test_audit_query_filters_by_entity_action_correlation_and_time(
        self, store: Any, clock: FixedClock
    ) -> None:
        corr = Urn("correlation", "4bf92f3577b34da6a3ce929d0e0e4736")
        t0 = clock.now()
        await store.audit.append(LAN, _audit(1, LAN, clock, correlation_urn=corr))
        await store.audit.append(
            LAN, _audit(2, LAN, clock, action="case.reaccommodate", at=t0 + timedelta(hours=1))
        )
        await store.audit.append(
            LAN, _audit(3, LAN, clock, entity_urn=Urn("case", "c-2"), at=t0 + timedelta(hours=2))
        )
        await store.audit.append(TAM, _audit(4, TAM, clock))
        everything = await store.audit.query(LAN, AuditQuery())
        assert [e.urn.id for e in everything] == ["a-1", "a-2", "a-3"]
        by_entity = await store.audit.query(LAN, AuditQuery(entity_urn=Urn("case", "c-1")))
        assert [e.urn.id for e in by_entity] == ["a-1", "a-2"]
        by_action = await store.audit.query(LAN, AuditQuery(action="case.reaccommodate"))
        assert [e.urn.id for e in by_action] == ["a-2"]
        by_corr = await store.audit.query(LAN, AuditQuery(correlation_urn=corr))
        assert [e.urn.id for e in by_corr] == ["a-1"]
        window = await store.audit.query(
            LAN, AuditQuery(since=t0 + timedelta(minutes=30), until=t0 + timedelta(minutes=90))
        )
        assert [e.urn.id for e in window] == ["a-2"]
        assert [e.before for e in by_corr] == [{"status": "OPEN"}]

    async def test_audit_of_another_tenant_cannot_be_written(
        self, store: Any, clock: FixedClock
    ) -> None:
        with pytest.raises(NotFoundError):
            await store.audit.append(LAN, _audit(1, TAM, clock))
        assert await store.audit.query(TAM, AuditQuery()) == []

    # ------------------------------------------------------------ idempotency

    async def test_idempotency_replays_the_first_result_until_expiry(
        self, store: Any, clock: FixedClock
    ) -> None:
        first = await store.idempotency.remember(LAN, "case", "EV-1", {"case": "urn:case:c-1"})
        assert not first.replayed
        again = await store.idempotency.remember(LAN, "case", "EV-1", {"case": "urn:case:c-2"})
        assert again.replayed and again.result == {"case": "urn:case:c-1"}
        other = await store.idempotency.remember(TAM, "case", "EV-1", {"case": "urn:case:c-9"})
        assert not other.replayed
        assert (await store.idempotency.lookup(LAN, "case", "EV-1")).result == {
            "case": "urn:case:c-1"
        }
        clock.advance(timedelta(days=7, seconds=1))
        assert await store.idempotency.lookup(LAN, "case", "EV-1") is None
        fresh = await store.idempotency.remember(LAN, "case", "EV-1", {"case": "urn:case:c-3"})
        assert not fresh.replayed and fresh.result == {"case": "urn:case:c-3"}

    # ------------------------------------------------------------ outbox & transactions

    async def test_outbox_reads_in_order_after_a_position(
        self, store: Any, clock: FixedClock
    ) -> None:
        assert await store.outbox.head() == 0
        for n in range(1, 6):
            await store.outbox.append(LAN, _event(n, LAN, clock))
        records = await store.outbox.read_after(0)
        positions = [r.position for r in records]
        assert await store.outbox.head() == positions[-1]
        assert positions == sorted(positions) and len(positions) == 5
        assert [r.event.data["n"] for r in records] == [1, 2, 3, 4, 5]
        tail = await store.outbox.read_after(positions[2])
        assert [r.event.data["n"] for r in tail] == [4, 5]
        assert await store.outbox.load_position("relay") == 0
        await store.outbox.save_position("relay", positions[1])
        assert await store.outbox.load_position("relay") == positions[1]

    async def test_transaction_commits_state_audit_and_event_together(
        self, store: Any, clock: FixedClock
    ) -> None:
        async with store.transaction() as tx:
            await tx.cases.add(LAN, sample("cases"))
            await tx.audit.append(LAN, _audit(1, LAN, clock))
            await tx.outbox.append(LAN, _event(1, LAN, clock))
        assert (await store.cases.get(LAN, sample("cases").urn)).version == 1
        assert len(await store.audit.query(LAN, AuditQuery())) == 1
        assert len(await store.outbox.read_after(0)) == 1

    async def test_failed_transaction_leaves_nothing_behind(
        self, store: Any, clock: FixedClock
    ) -> None:
        existing = await store.cases.add(LAN, sample("cases", "0"))

        class Boom(Exception):
            pass

        with pytest.raises(Boom):
            async with store.transaction() as tx:
                await tx.cases.add(LAN, sample("cases"))
                await tx.cases.update(LAN, existing)
                await tx.audit.append(LAN, _audit(1, LAN, clock))
                await tx.outbox.append(LAN, _event(1, LAN, clock))
                await tx.idempotency.remember(LAN, "case", "EV-x", {"a": "b"})
                raise Boom
        with pytest.raises(NotFoundError):
            await store.cases.get(LAN, sample("cases").urn)
        assert (await store.cases.get(LAN, existing.urn)).version == 1
        assert await store.audit.query(LAN, AuditQuery()) == []
        assert await store.outbox.read_after(0) == []
        assert await store.idempotency.lookup(LAN, "case", "EV-x") is None


@pytest.mark.anyio
class SnapshotStoreContract:
    """Every :class:`~nexa_core.ports.SnapshotStore` passes this (``snapshots`` fixture)."""

    @pytest.fixture
    def anyio_backend(self) -> str:
        return "asyncio"

    async def test_put_get_replace_delete(self, snapshots: Any) -> None:
        urn = Urn("sub-case", "sc-1")
        await snapshots.put(LAN, urn, {"hotel": "A", "rooms": [1, 2]})
        assert dict(await snapshots.get(LAN, urn)) == {"hotel": "A", "rooms": [1, 2]}
        await snapshots.put(LAN, urn, {"hotel": "B"})
        assert dict(await snapshots.get(LAN, urn)) == {"hotel": "B"}
        await snapshots.delete(LAN, urn)
        with pytest.raises(NotFoundError):
            await snapshots.get(LAN, urn)

    async def test_tenants_are_isolated(self, snapshots: Any) -> None:
        urn = Urn("sub-case", "sc-1")
        await snapshots.put(LAN, urn, {"hotel": "A"})
        with pytest.raises(NotFoundError):
            await snapshots.get(TAM, urn)
        await snapshots.delete(TAM, urn)
        assert dict(await snapshots.get(LAN, urn)) == {"hotel": "A"}

    async def test_card_numbers_are_refused(self, snapshots: Any) -> None:
        with pytest.raises(PIIRejectedError):
            await snapshots.put(LAN, Urn("sub-case", "sc-2"), {"pan": "4111111111111111"})
