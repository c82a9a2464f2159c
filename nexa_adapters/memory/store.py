"""In-memory operational store: a faithful fake of every store port.

Tenant filter, version checks, append-only audit, idempotency with TTL, an insert-only
outbox and all-or-nothing transactions — the same contract suite the SQL adapters pass.
Records are frozen attrs values, so a transaction snapshot is a shallow copy.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from enum import Enum
from typing import Any, Generic, TypeVar

import anyio
import attrs

from nexa_core.errors import (
    ConcurrencyError,
    DuplicateError,
    InvalidInputError,
    NotFoundError,
)
from nexa_core.model import AuditEntry, DomainEvent
from nexa_core.pii import reject_card_numbers
from nexa_core.ports import (
    AuditQuery,
    IdempotencyRecord,
    OutboxRecord,
)
from nexa_core.runtime import SystemClock
from nexa_core.serialization import unstructure
from nexa_core.tenancy import TenantContext
from nexa_core.urn import Urn, without_status

__all__ = ["INDEXES", "MemoryStore"]

A = TypeVar("A")

#: Filterable attributes per store (the SQL adapter indexes the same columns).
INDEXES: dict[str, tuple[str, ...]] = {
    "cases": ("status", "airport_urn", "external_event_id"),
    "sub_cases": ("case_urn", "status"),
    "policies": ("state", "context_key", "name"),
    "demands": ("case_urn", "status", "type"),
    "waves": ("case_urn", "demand_urn"),
    "reservations": ("case_urn", "sub_case_urn", "status", "offer_urn"),
    "contracts": ("hotel_name",),
    "cards": ("case_urn", "group_id", "status"),
    "transfers": ("case_urn", "status"),
    "notifications": ("case_urn", "group_id", "dedup_key", "status"),
    "reviews": ("case_urn", "state", "category"),
    "dead_letters": ("case_urn", "sub_case_urn"),
    "card_accounts": ("vendor_ref",),
}


def _key(value: object) -> object:
    if isinstance(value, Urn):
        return str(without_status(value))
    if isinstance(value, Enum):
        return value.value
    return value


class _State:
    def __init__(self) -> None:
        self.tables: dict[str, dict[str, Any]] = {name: {} for name in INDEXES}
        self.audit: list[AuditEntry] = []
        self.idem: dict[tuple[str, str, str], IdempotencyRecord] = {}
        self.outbox: list[OutboxRecord] = []
        self.positions: dict[str, int] = {}
        self.lock = anyio.Lock()

    def snapshot(self) -> tuple[Any, ...]:
        return (
            {k: dict(v) for k, v in self.tables.items()},
            list(self.audit),
            dict(self.idem),
            list(self.outbox),
            dict(self.positions),
        )

    def restore(self, snap: tuple[Any, ...]) -> None:
        self.tables, self.audit, self.idem, self.outbox, self.positions = snap


class _Session:
    """Serialises writers: outside a transaction every write takes the lock."""

    def __init__(self, state: _State, in_tx: bool) -> None:
        self.state = state
        self.in_tx = in_tx

    @asynccontextmanager
    async def write(self) -> AsyncIterator[None]:
        if self.in_tx:
            yield
        else:
            async with self.state.lock:
                yield


class MemoryAggregateStore(Generic[A]):
    """One table of tenant-scoped, versioned records."""

    def __init__(self, session: _Session, table: str) -> None:
        self._s = session
        self._table = table
        self.indexed = INDEXES[table]

    @property
    def _rows(self) -> dict[str, Any]:
        return self._s.state.tables[self._table]

    def _check_tenant(self, tenant: TenantContext, item: Any) -> None:
        if item.airline_urn != tenant.airline_urn:
            raise NotFoundError(f"{item.urn} not found", urn=str(item.urn))

    async def add(self, tenant: TenantContext, item: A) -> A:
        self._check_tenant(tenant, item)
        reject_card_numbers(unstructure(item))
        key = str(without_status(item.urn))  # type: ignore[attr-defined]
        async with self._s.write():
            if key in self._rows:
                raise DuplicateError(f"{key} already exists", urn=key)
            stored = attrs.evolve(item, version=1)  # type: ignore[misc]
            self._rows[key] = stored
        return stored

    async def get(self, tenant: TenantContext, urn: Urn) -> A:
        row = self._rows.get(str(without_status(urn)))
        if row is None or row.airline_urn != tenant.airline_urn:
            raise NotFoundError(f"{urn} not found", urn=str(urn))
        return row  # type: ignore[no-any-return]

    async def update(self, tenant: TenantContext, item: A) -> A:
        self._check_tenant(tenant, item)
        reject_card_numbers(unstructure(item))
        key = str(without_status(item.urn))  # type: ignore[attr-defined]
        async with self._s.write():
            current = self._rows.get(key)
            if current is None or current.airline_urn != tenant.airline_urn:
                raise NotFoundError(f"{key} not found", urn=key)
            if current.version != item.version:  # type: ignore[attr-defined]
                raise ConcurrencyError(
                    f"{key} was changed by someone else (version {current.version}, "
                    f"yours {item.version})",  # type: ignore[attr-defined]
                    urn=key,
                    expected=item.version,  # type: ignore[attr-defined]
                    actual=current.version,
                )
            stored = attrs.evolve(item, version=current.version + 1)  # type: ignore[misc]
            self._rows[key] = stored
        return stored

    async def find(
        self, tenant: TenantContext, *, limit: int | None = None, **where: object
    ) -> list[A]:
        unknown = set(where) - set(self.indexed)
        if unknown:
            raise InvalidInputError(
                f"{self._table} cannot be filtered by {sorted(unknown)}; "
                f"indexed: {list(self.indexed)}",
                fields=sorted(unknown),
            )
        want = {k: _key(v) for k, v in where.items()}
        out = [
            r
            for _, r in sorted(self._rows.items())
            if r.airline_urn == tenant.airline_urn
            and all(_key(getattr(r, k)) == v for k, v in want.items())
        ]
        return out[:limit] if limit is not None else out


class MemoryAuditLog:
    """Append-only list; no update or delete exists."""

    def __init__(self, session: _Session) -> None:
        self._s = session

    async def append(self, tenant: TenantContext, entry: AuditEntry) -> AuditEntry:
        if entry.airline_urn != tenant.airline_urn:
            raise NotFoundError(f"{entry.entity_urn} not found", urn=str(entry.entity_urn))
        reject_card_numbers(unstructure(entry))
        async with self._s.write():
            self._s.state.audit.append(entry)
        return entry

    async def query(self, tenant: TenantContext, query: AuditQuery) -> list[AuditEntry]:
        out = []
        for e in self._s.state.audit:
            if e.airline_urn != tenant.airline_urn:
                continue
            if query.entity_urn is not None and without_status(e.entity_urn) != without_status(
                query.entity_urn
            ):
                continue
            if query.action is not None and e.action != query.action:
                continue
            if query.correlation_urn is not None and e.correlation_urn != query.correlation_urn:
                continue
            if query.since is not None and e.at < query.since:
                continue
            if query.until is not None and e.at > query.until:
                continue
            out.append(e)
        out.sort(key=lambda e: e.at)
        return out[: query.limit] if query.limit is not None else out


class MemoryIdempotencyStore:
    """First result wins per (tenant, scope, key) until it expires."""

    def __init__(self, session: _Session, clock: Callable[[], datetime]) -> None:
        self._s = session
        self._now = clock

    async def remember(
        self,
        tenant: TenantContext,
        scope: str,
        key: str,
        result: Mapping[str, Any],
        *,
        ttl: timedelta = timedelta(days=7),
    ) -> IdempotencyRecord:
        reject_card_numbers(dict(result))
        k = (str(tenant.airline_urn), scope, key)
        now = self._now()
        async with self._s.write():
            existing = self._s.state.idem.get(k)
            if existing is not None and existing.expires_at > now:
                return attrs.evolve(existing, replayed=True)
            rec = IdempotencyRecord(scope, key, dict(result), now, now + ttl, replayed=False)
            self._s.state.idem[k] = rec
            return rec

    async def lookup(self, tenant: TenantContext, scope: str, key: str) -> IdempotencyRecord | None:
        rec = self._s.state.idem.get((str(tenant.airline_urn), scope, key))
        if rec is None or rec.expires_at <= self._now():
            return None
        return attrs.evolve(rec, replayed=True)


class MemoryOutbox:
    """Insert-only list of events with increasing positions."""

    def __init__(self, session: _Session) -> None:
        self._s = session

    async def append(self, tenant: TenantContext, event: DomainEvent) -> None:
        if event.airline_urn != tenant.airline_urn:
            raise NotFoundError(f"{event.subject_urn} not found", urn=str(event.subject_urn))
        reject_card_numbers(unstructure(event))
        async with self._s.write():
            pos = len(self._s.state.outbox) + 1
            self._s.state.outbox.append(OutboxRecord(pos, event))

    async def read_after(self, position: int, *, limit: int = 100) -> list[OutboxRecord]:
        return [r for r in self._s.state.outbox if r.position > position][:limit]

    async def head(self) -> int:
        outbox = self._s.state.outbox
        return outbox[-1].position if outbox else 0

    async def load_position(self, consumer: str) -> int:
        return self._s.state.positions.get(consumer, 0)

    async def save_position(self, consumer: str, position: int) -> None:
        async with self._s.write():
            self._s.state.positions[consumer] = position


class MemoryStore:
    """The in-memory :class:`~nexa_core.ports.OperationalStore`."""

    def __init__(
        self,
        *,
        clock: Callable[[], datetime] | None = None,
        _state: _State | None = None,
        _in_tx: bool = False,
    ) -> None:
        self._state = _state or _State()
        self._clock = clock or SystemClock().now
        session = _Session(self._state, _in_tx)
        self._in_tx = _in_tx
        self.cases: MemoryAggregateStore[Any] = MemoryAggregateStore(session, "cases")
        self.sub_cases: MemoryAggregateStore[Any] = MemoryAggregateStore(session, "sub_cases")
        self.policies: MemoryAggregateStore[Any] = MemoryAggregateStore(session, "policies")
        self.demands: MemoryAggregateStore[Any] = MemoryAggregateStore(session, "demands")
        self.waves: MemoryAggregateStore[Any] = MemoryAggregateStore(session, "waves")
        self.reservations: MemoryAggregateStore[Any] = MemoryAggregateStore(session, "reservations")
        self.contracts: MemoryAggregateStore[Any] = MemoryAggregateStore(session, "contracts")
        self.cards: MemoryAggregateStore[Any] = MemoryAggregateStore(session, "cards")
        self.transfers: MemoryAggregateStore[Any] = MemoryAggregateStore(session, "transfers")
        self.notifications: MemoryAggregateStore[Any] = MemoryAggregateStore(
            session, "notifications"
        )
        self.reviews: MemoryAggregateStore[Any] = MemoryAggregateStore(session, "reviews")
        self.dead_letters: MemoryAggregateStore[Any] = MemoryAggregateStore(session, "dead_letters")
        self.card_accounts: MemoryAggregateStore[Any] = MemoryAggregateStore(
            session, "card_accounts"
        )
        self.audit = MemoryAuditLog(session)
        self.idempotency = MemoryIdempotencyStore(session, self._clock)
        self.outbox = MemoryOutbox(session)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[MemoryStore]:
        if self._in_tx:  # nested: join the outer unit of work
            yield self
            return
        async with self._state.lock:
            snap = self._state.snapshot()
            try:
                yield MemoryStore(clock=self._clock, _state=self._state, _in_tx=True)
            except BaseException:
                self._state.restore(snap)
                raise

    async def close(self) -> None:
        return None
