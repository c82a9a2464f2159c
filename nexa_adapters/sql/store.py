"""The SQLAlchemy operational store (SQLite by default, PostgreSQL in production).

Design:

* **Sync Core underneath, async ports on top.** Each call runs its statements on a
  worker thread (:func:`anyio.to_thread.run_sync`); SQLAlchemy Core statements are
  compiled once and cached, psycopg prepares repeated statements on the server.
* **Tenant guard in every statement.** Reads and writes of aggregates, audit and
  idempotency rows always carry ``airline_urn = :tenant`` in their ``WHERE`` clause; a
  record written for another tenant is refused before any SQL runs (``NotFoundError``).
* **Optimistic concurrency** with ``UPDATE … WHERE urn = :u AND airline_urn = :t AND
  version = :v``: zero rows means stale (``ConcurrencyError``) or absent
  (``NotFoundError``), and nothing changed.
* **Never a failed statement inside a transaction**: duplicates use
  ``INSERT … ON CONFLICT DO NOTHING`` and check the row count, so a ``DuplicateError``
  does not poison a PostgreSQL transaction.
* **Outbox order = commit order.** On PostgreSQL an outbox append first takes a
  transaction-scoped advisory lock (:data:`OUTBOX_LOCK_KEY`) held until commit, so
  positions are allocated and committed in the same order and a relay reading
  ``position > p`` can never pass over a record that commits later with a lower
  position. SQLite serialises writers itself (``BEGIN IMMEDIATE``).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from enum import Enum
from typing import Any, Generic, TypeVar

import anyio
import anyio.to_thread
import attrs
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg_dialect
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.engine import Connection, Engine

from nexa_adapters.sql.schema import (
    AUDIT,
    IDEMPOTENCY,
    OUTBOX,
    OUTBOX_POSITIONS,
    RECORD_TYPES,
    TABLES,
)
from nexa_core.errors import (
    ConcurrencyError,
    ConfigurationError,
    DuplicateError,
    InvalidInputError,
    NotFoundError,
)
from nexa_core.model import AuditEntry, DomainEvent
from nexa_core.pii import reject_card_numbers
from nexa_core.ports import AuditQuery, IdempotencyRecord, OutboxRecord
from nexa_core.runtime import SystemClock
from nexa_core.serialization import structure, unstructure
from nexa_core.tenancy import TenantContext
from nexa_core.urn import Urn, without_status

__all__ = [
    "OUTBOX_LOCK_KEY",
    "SqlAggregateStore",
    "SqlAuditLog",
    "SqlIdempotencyStore",
    "SqlOutbox",
    "SqlStore",
    "create_sql_engine",
]

A = TypeVar("A")
T = TypeVar("T")

#: PostgreSQL advisory lock key serialising outbox appends until commit ("nexa.out").
OUTBOX_LOCK_KEY = int.from_bytes(b"nexa.out", "big") & 0x7FFF_FFFF_FFFF_FFFF


def _col(value: object) -> str | None:
    """The indexed-column form of an attribute value (as the memory store compares)."""
    if value is None:
        return None
    if isinstance(value, Urn):
        return str(without_status(value))
    if isinstance(value, Enum):
        return str(value.value)
    return str(value)


def _key(urn: Urn) -> str:
    return str(without_status(urn))


def create_sql_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for ``sqlite:`` or ``postgresql…`` URLs with Nexa's connection settings.

    SQLite: WAL journal, ``synchronous=FULL`` (``?synchronous=normal`` in the URL trades
    durability on power loss for speed), a 30 s busy timeout and ``BEGIN IMMEDIATE`` for
    transactions that write (so concurrent writers queue instead of failing).
    """
    parsed = sa.engine.make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        query = dict(parsed.query)
        synchronous = str(query.pop("synchronous", "full")).upper()
        if synchronous not in ("OFF", "NORMAL", "FULL", "EXTRA"):
            raise ConfigurationError(
                f"sqlite synchronous must be off, normal, full or extra (got {synchronous!r})",
                url=str(parsed.set(password=None)),
            )
        parsed = parsed.set(query=query)
        connect_args = dict(kwargs.pop("connect_args", {}))
        connect_args.setdefault("timeout", 30.0)
        connect_args.setdefault("check_same_thread", False)
        engine = sa.create_engine(parsed, connect_args=connect_args, **kwargs)
        memory = parsed.database in (None, "", ":memory:")

        @sa.event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
            cur = dbapi_conn.cursor()
            if not memory:
                cur.execute("PRAGMA journal_mode=WAL")
            cur.execute(f"PRAGMA synchronous={synchronous}")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @sa.event.listens_for(engine, "begin")
        def _on_begin(conn: Connection) -> None:
            write = conn.get_execution_options().get("nexa_write", False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

        return engine
    if backend == "postgresql":
        kwargs.setdefault("pool_size", 10)
        kwargs.setdefault("max_overflow", 20)
        return sa.create_engine(parsed, **kwargs)
    raise ConfigurationError(
        f"the SQL store supports sqlite: and postgresql URLs, not {backend!r}", backend=backend
    )


class _Db:
    """The engine and what every store object needs to know about it."""

    def __init__(self, engine: Engine, clock: Callable[[], datetime]) -> None:
        self.engine = engine
        self.clock = clock
        self.postgres = engine.dialect.name == "postgresql"
        self.insert = pg_dialect.insert if self.postgres else sqlite_dialect.insert


class _Scope:
    """Where statements run: a pinned connection in a transaction, else one per call."""

    def __init__(self, db: _Db, in_tx: bool) -> None:
        self.db = db
        self.in_tx = in_tx
        self.conn: Connection | None = None

    def _pinned(self) -> Connection:
        if self.conn is None:
            conn = self.db.engine.connect()
            conn.execution_options(nexa_write=True)
            conn.begin()
            self.conn = conn
        return self.conn

    def _own(self, fn: Callable[[Connection], T], write: bool) -> T:
        with self.db.engine.connect() as conn:
            if write:
                conn.execution_options(nexa_write=True)
            with conn.begin():
                return fn(conn)

    async def run(self, fn: Callable[[Connection], T], *, write: bool) -> T:
        if self.in_tx:
            return await anyio.to_thread.run_sync(lambda: fn(self._pinned()))
        return await anyio.to_thread.run_sync(self._own, fn, write)

    def finish(self, commit: bool) -> None:
        conn, self.conn = self.conn, None
        if conn is None:
            return
        try:
            if commit:
                conn.commit()
            else:
                conn.rollback()
        finally:
            conn.close()


class SqlAggregateStore(Generic[A]):
    """One table of tenant-scoped, versioned records (see :class:`AggregateStore`)."""

    def __init__(self, scope: _Scope, name: str) -> None:
        self._s = scope
        self._name = name
        self._table = TABLES[name]
        self._cls = RECORD_TYPES[name]
        self.indexed: tuple[str, ...] = tuple(
            c.name
            for c in self._table.columns
            if c.name not in ("urn", "airline_urn", "version", "doc")
        )

    def _check_tenant(self, tenant: TenantContext, item: Any) -> None:
        if item.airline_urn != tenant.airline_urn:
            raise NotFoundError(f"{item.urn} not found", urn=str(item.urn))

    def _row(self, item: Any, version: int) -> dict[str, Any]:
        doc = unstructure(item)
        reject_card_numbers(doc)
        doc["version"] = version
        row = {
            "urn": _key(item.urn),
            "airline_urn": str(item.airline_urn),
            "version": version,
            "doc": doc,
        }
        for f in self.indexed:
            row[f] = _col(getattr(item, f))
        return row

    def _load(self, doc: Mapping[str, Any], version: int) -> A:
        data = dict(doc)
        data["version"] = version
        return structure(data, self._cls)  # type: ignore[no-any-return]

    async def add(self, tenant: TenantContext, item: A) -> A:
        self._check_tenant(tenant, item)
        row = self._row(item, 1)
        t = self._table
        stmt = self._s.db.insert(t).values(row).on_conflict_do_nothing().returning(t.c.version)

        def op(conn: Connection) -> bool:
            return conn.execute(stmt).first() is not None

        if not await self._s.run(op, write=True):
            raise DuplicateError(f"{row['urn']} already exists", urn=row["urn"])
        return attrs.evolve(item, version=1)  # type: ignore[misc]

    async def get(self, tenant: TenantContext, urn: Urn) -> A:
        t = self._table
        stmt = sa.select(t.c.doc, t.c.version).where(
            t.c.urn == _key(urn), t.c.airline_urn == str(tenant.airline_urn)
        )

        def op(conn: Connection) -> Any:
            return conn.execute(stmt).first()

        row = await self._s.run(op, write=False)
        if row is None:
            raise NotFoundError(f"{urn} not found", urn=str(urn))
        return self._load(row.doc, row.version)

    async def update(self, tenant: TenantContext, item: A) -> A:
        self._check_tenant(tenant, item)
        current: int = item.version  # type: ignore[attr-defined]
        row = self._row(item, current + 1)
        key = row.pop("urn")
        airline = row.pop("airline_urn")
        t = self._table
        stmt = (
            sa.update(t)
            .where(t.c.urn == key, t.c.airline_urn == airline, t.c.version == current)
            .values(row)
        )
        probe = sa.select(t.c.version).where(t.c.urn == key, t.c.airline_urn == airline)

        def op(conn: Connection) -> int | None:
            if conn.execute(stmt).rowcount == 1:
                return current
            return conn.execute(probe).scalar()  # None: absent or another tenant's

        actual = await self._s.run(op, write=True)
        if actual is None:
            raise NotFoundError(f"{key} not found", urn=key)
        if actual != current:
            raise ConcurrencyError(
                f"{key} was changed by someone else (version {actual}, yours {current})",
                urn=key,
                expected=current,
                actual=actual,
            )
        return attrs.evolve(item, version=current + 1)  # type: ignore[misc]

    async def find(
        self, tenant: TenantContext, *, limit: int | None = None, **where: object
    ) -> list[A]:
        unknown = set(where) - set(self.indexed)
        if unknown:
            raise InvalidInputError(
                f"{self._name} cannot be filtered by {sorted(unknown)}; "
                f"indexed: {list(self.indexed)}",
                fields=sorted(unknown),
            )
        t = self._table
        stmt = sa.select(t.c.doc, t.c.version).where(t.c.airline_urn == str(tenant.airline_urn))
        for f, v in where.items():
            value = _col(v)
            stmt = stmt.where(t.c[f].is_(None) if value is None else t.c[f] == value)
        stmt = stmt.order_by(t.c.urn)
        if limit is not None:
            stmt = stmt.limit(limit)

        def op(conn: Connection) -> list[Any]:
            return list(conn.execute(stmt))

        return [self._load(r.doc, r.version) for r in await self._s.run(op, write=False)]


class SqlAuditLog:
    """Append-only audit rows; there is no update or delete (PostgreSQL and SQLite
    triggers refuse them too)."""

    def __init__(self, scope: _Scope) -> None:
        self._s = scope

    async def append(self, tenant: TenantContext, entry: AuditEntry) -> AuditEntry:
        if entry.airline_urn != tenant.airline_urn:
            raise NotFoundError(f"{entry.entity_urn} not found", urn=str(entry.entity_urn))
        doc = unstructure(entry)
        reject_card_numbers(doc)
        stmt = sa.insert(AUDIT).values(
            urn=str(entry.urn),
            airline_urn=str(entry.airline_urn),
            entity_urn=_key(entry.entity_urn),
            action=entry.action,
            correlation_urn=str(entry.correlation_urn) if entry.correlation_urn else None,
            at=entry.at,
            doc=doc,
        )

        def op(conn: Connection) -> None:
            conn.execute(stmt)

        await self._s.run(op, write=True)
        return entry

    async def query(self, tenant: TenantContext, query: AuditQuery) -> list[AuditEntry]:
        a = AUDIT.c
        stmt = sa.select(a.doc).where(a.airline_urn == str(tenant.airline_urn))
        if query.entity_urn is not None:
            stmt = stmt.where(a.entity_urn == _key(query.entity_urn))
        if query.action is not None:
            stmt = stmt.where(a.action == query.action)
        if query.correlation_urn is not None:
            stmt = stmt.where(a.correlation_urn == str(query.correlation_urn))
        if query.since is not None:
            stmt = stmt.where(a.at >= query.since)
        if query.until is not None:
            stmt = stmt.where(a.at <= query.until)
        stmt = stmt.order_by(a.at, a.seq)
        if query.limit is not None:
            stmt = stmt.limit(query.limit)

        def op(conn: Connection) -> list[Any]:
            return list(conn.execute(stmt).scalars())

        return [structure(d, AuditEntry) for d in await self._s.run(op, write=False)]


class SqlIdempotencyStore:
    """First result wins per (tenant, scope, key) until it expires (the injected clock)."""

    def __init__(self, scope: _Scope) -> None:
        self._s = scope

    async def remember(
        self,
        tenant: TenantContext,
        scope: str,
        key: str,
        result: Mapping[str, Any],
        *,
        ttl: timedelta = timedelta(days=7),
    ) -> IdempotencyRecord:
        data = json.loads(json.dumps(unstructure(dict(result))))
        reject_card_numbers(data)
        now = self._s.db.clock()
        expires = now + ttl
        airline = str(tenant.airline_urn)
        i = IDEMPOTENCY.c
        pk = (i.airline_urn == airline, i.scope == scope, i.key == key)
        insert = (
            self._s.db.insert(IDEMPOTENCY)
            .values(
                airline_urn=airline,
                scope=scope,
                key=key,
                result=data,
                created_at=now,
                expires_at=expires,
            )
            .on_conflict_do_nothing()
            .returning(i.expires_at)
        )
        refresh = (
            sa.update(IDEMPOTENCY)
            .where(*pk, i.expires_at <= now)
            .values(result=data, created_at=now, expires_at=expires)
        )
        select = sa.select(i.result, i.created_at, i.expires_at).where(*pk)

        def op(conn: Connection) -> Any:
            if conn.execute(insert).first() is not None:
                return None
            if conn.execute(refresh).rowcount == 1:
                return None
            return conn.execute(select).first()

        row = await self._s.run(op, write=True)
        if row is None:
            return IdempotencyRecord(scope, key, data, now, expires, replayed=False)
        return IdempotencyRecord(
            scope, key, row.result, row.created_at, row.expires_at, replayed=True
        )

    async def lookup(self, tenant: TenantContext, scope: str, key: str) -> IdempotencyRecord | None:
        i = IDEMPOTENCY.c
        stmt = sa.select(i.result, i.created_at, i.expires_at).where(
            i.airline_urn == str(tenant.airline_urn),
            i.scope == scope,
            i.key == key,
            i.expires_at > self._s.db.clock(),
        )

        def op(conn: Connection) -> Any:
            return conn.execute(stmt).first()

        row = await self._s.run(op, write=False)
        if row is None:
            return None
        return IdempotencyRecord(
            scope, key, row.result, row.created_at, row.expires_at, replayed=True
        )


class SqlOutbox:
    """Insert-only events with strictly increasing positions, committed in position order."""

    def __init__(self, scope: _Scope) -> None:
        self._s = scope

    async def append(self, tenant: TenantContext, event: DomainEvent) -> None:
        if event.airline_urn != tenant.airline_urn:
            raise NotFoundError(f"{event.subject_urn} not found", urn=str(event.subject_urn))
        doc = unstructure(event)
        reject_card_numbers(doc)
        stmt = sa.insert(OUTBOX).values(
            airline_urn=str(event.airline_urn),
            type=event.type,
            event_urn=str(event.urn),
            key=event.key,
            doc=doc,
        )
        lock = sa.select(sa.func.pg_advisory_xact_lock(OUTBOX_LOCK_KEY))
        postgres = self._s.db.postgres

        def op(conn: Connection) -> None:
            if postgres:
                conn.execute(lock)
            conn.execute(stmt)

        await self._s.run(op, write=True)

    async def read_after(self, position: int, *, limit: int = 100) -> list[OutboxRecord]:
        o = OUTBOX.c
        stmt = (
            sa.select(o.position, o.doc)
            .where(o.position > position)
            .order_by(o.position)
            .limit(limit)
        )

        def op(conn: Connection) -> list[Any]:
            return list(conn.execute(stmt))

        return [
            OutboxRecord(r.position, structure(r.doc, DomainEvent))
            for r in await self._s.run(op, write=False)
        ]

    async def load_position(self, consumer: str) -> int:
        p = OUTBOX_POSITIONS.c
        stmt = sa.select(p.position).where(p.consumer == consumer)

        def op(conn: Connection) -> int:
            return conn.execute(stmt).scalar() or 0

        return await self._s.run(op, write=False)

    async def save_position(self, consumer: str, position: int) -> None:
        ins = self._s.db.insert(OUTBOX_POSITIONS).values(consumer=consumer, position=position)
        stmt = ins.on_conflict_do_update(
            index_elements=[OUTBOX_POSITIONS.c.consumer], set_={"position": position}
        )

        def op(conn: Connection) -> None:
            conn.execute(stmt)

        await self._s.run(op, write=True)


def _clock_fn(clock: Any) -> Callable[[], datetime]:
    if clock is None:
        return SystemClock().now
    now = getattr(clock, "now", None)
    return now if callable(now) else clock  # type: ignore[no-any-return]


class SqlStore:
    """The SQL :class:`~nexa_core.ports.OperationalStore` (SQLite or PostgreSQL).

    Build one with :meth:`from_url`; ``engine`` exposes the SQLAlchemy engine for
    components that share the database (e.g. a workflow engine's application state).
    """

    def __init__(
        self,
        engine: Engine,
        *,
        clock: Any = None,
        _db: _Db | None = None,
        _in_tx: bool = False,
    ) -> None:
        self._db = _db or _Db(engine, _clock_fn(clock))
        self._scope = _Scope(self._db, _in_tx)
        s = self._scope
        self.cases: SqlAggregateStore[Any] = SqlAggregateStore(s, "cases")
        self.sub_cases: SqlAggregateStore[Any] = SqlAggregateStore(s, "sub_cases")
        self.policies: SqlAggregateStore[Any] = SqlAggregateStore(s, "policies")
        self.demands: SqlAggregateStore[Any] = SqlAggregateStore(s, "demands")
        self.waves: SqlAggregateStore[Any] = SqlAggregateStore(s, "waves")
        self.reservations: SqlAggregateStore[Any] = SqlAggregateStore(s, "reservations")
        self.contracts: SqlAggregateStore[Any] = SqlAggregateStore(s, "contracts")
        self.cards: SqlAggregateStore[Any] = SqlAggregateStore(s, "cards")
        self.transfers: SqlAggregateStore[Any] = SqlAggregateStore(s, "transfers")
        self.notifications: SqlAggregateStore[Any] = SqlAggregateStore(s, "notifications")
        self.reviews: SqlAggregateStore[Any] = SqlAggregateStore(s, "reviews")
        self.dead_letters: SqlAggregateStore[Any] = SqlAggregateStore(s, "dead_letters")
        self.audit = SqlAuditLog(s)
        self.idempotency = SqlIdempotencyStore(s)
        self.outbox = SqlOutbox(s)

    @classmethod
    def from_url(
        cls, url: str, *, clock: Any = None, migrate: bool | None = None, **engine_kwargs: Any
    ) -> SqlStore:
        """A store on ``url`` (``sqlite:///path.db`` or ``postgresql+psycopg://…``).

        ``clock`` is a :class:`~nexa_core.ports.Clock` or a ``now()`` callable.
        ``migrate``: upgrade the schema to the newest migration first; the default
        (``None``) does so for SQLite only (PostgreSQL is migrated with ``nexa db upgrade``).
        """
        engine = create_sql_engine(url, **engine_kwargs)
        if migrate is None:
            migrate = engine.dialect.name == "sqlite"
        if migrate:
            from nexa_adapters.sql.migrate import upgrade

            upgrade(engine)
        return cls(engine, clock=clock)

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine (shared, thread-safe)."""
        return self._db.engine

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[SqlStore]:
        """A unit of work: state, audit, idempotency and outbox writes commit together."""
        if self._scope.in_tx:  # nested: join the outer unit of work
            yield self
            return
        tx = SqlStore(self._db.engine, _db=self._db, _in_tx=True)
        try:
            yield tx
        except BaseException:
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(tx._scope.finish, False)
            raise
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(tx._scope.finish, True)

    async def close(self) -> None:
        """Release pooled connections."""
        await anyio.to_thread.run_sync(self._db.engine.dispose)
