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
* **A relay never passes over an outbox record.** PostgreSQL sequences hand out
  positions in one order and transactions commit in another, so a relay reading
  ``position > p`` could see position 6 committed while 5 is still in flight, and skip 5
  for good. Appends take no lock (a lock held until commit would serialise every
  outbox-writing commit, ``fsync`` included, across the whole cluster); instead an
  append takes its transaction id before its position, and :class:`_OutboxHorizon`
  lets readers see only positions whose every possible writer has finished. SQLite
  serialises writers itself (``BEGIN IMMEDIATE``), so there commit order is position
  order.
"""

from __future__ import annotations

import contextlib
import json
import re
import sqlite3
import threading
import weakref
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import Any, Generic, TypeVar, overload

import anyio
import anyio.to_thread
import attrs
import sqlalchemy as sa
from anyio.lowlevel import RunVar
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
    ConflictError,
    DuplicateError,
    InvalidInputError,
    NexaError,
    NotFoundError,
    StoreUnavailableError,
)
from nexa_core.model import AuditEntry, DomainEvent
from nexa_core.pii import reject_card_numbers
from nexa_core.ports import AuditQuery, IdempotencyRecord, OutboxRecord
from nexa_core.runtime import SystemClock
from nexa_core.serialization import structure, unstructure
from nexa_core.tenancy import TenantContext
from nexa_core.urn import Urn, without_status

__all__ = [
    "SqlAggregateStore",
    "SqlAuditLog",
    "SqlIdempotencyStore",
    "SqlOutbox",
    "SqlStore",
    "create_sql_engine",
]

A = TypeVar("A")
T = TypeVar("T")

#: PostgreSQL: taken before an outbox row's position (see :class:`_OutboxHorizon`)
_TAKE_XID = "SELECT pg_current_xact_id()"


def _col(value: object) -> str | None:
    """The indexed-column form of an attribute value (as the memory store compares)."""
    if value is None:
        return None
    if isinstance(value, Urn):
        return str(without_status(value))
    if isinstance(value, Enum):
        return str(value.value)
    return str(value)


#: 13+ digits with optional single space/dash separators: a superset of what
#: :func:`nexa_core.pii.find_card_numbers` accepts (digits, spaces and dashes are never
#: escaped in JSON, so a card number in any string value shows up in the JSON text).
_DIGIT_RUN = re.compile(r"[0-9](?:[ -]?[0-9]){12}")


def _encode(doc: Any) -> str:
    """The JSON text a document is stored as, refused if it holds a card number.

    The text is encoded once and used both for the one-pass card-number pre-check
    (:func:`reject_card_numbers` walks the document only when the text has a digit
    run) and as the value sent to the database.
    """
    text = json.dumps(doc)
    if _DIGIT_RUN.search(text) is not None:
        reject_card_numbers(doc)
    return text


def _as_is(text: str) -> str:
    return text


#: aggregate → the names of its indexed columns
_INDEXED: dict[str, tuple[str, ...]] = {
    name: tuple(c.name for c in t.columns if c.name not in ("urn", "airline_urn", "version", "doc"))
    for name, t in TABLES.items()
}


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
            options = conn.get_execution_options()
            if options.get("nexa_lane", False):  # the write lane issues BEGIN itself
                return
            conn.exec_driver_sql("BEGIN IMMEDIATE" if options.get("nexa_write", False) else "BEGIN")

        return engine
    if backend == "postgresql":
        kwargs.setdefault("pool_size", 10)
        kwargs.setdefault("max_overflow", 20)
        return sa.create_engine(parsed, **kwargs)
    raise ConfigurationError(
        f"the SQL store supports sqlite: and postgresql URLs, not {backend!r}", backend=backend
    )


def _driver_errors() -> tuple[type[BaseException], ...]:
    """Driver and SQLAlchemy errors that mean "the store cannot do this now"."""
    errors: list[type[BaseException]] = [
        sa.exc.OperationalError,
        sa.exc.InterfaceError,
        sa.exc.TimeoutError,  # pool exhausted
        sqlite3.OperationalError,
    ]
    with contextlib.suppress(ImportError):
        import psycopg

        errors += [psycopg.OperationalError, psycopg.InterfaceError]
    return tuple(errors)


_UNAVAILABLE = _driver_errors()


def _unavailable(exc: BaseException) -> NexaError:
    """The typed form of a driver failure (first line of the driver's message only:
    SQLAlchemy's own text carries statements and parameters, which must not be logged)."""
    if isinstance(exc, NexaError):
        return exc
    orig = getattr(exc, "orig", None) or exc
    detail = (str(orig).strip().splitlines() or [type(orig).__name__])[0][:200]
    if "no such table" in detail:  # SQLite: the schema was never migrated
        return ConfigurationError(
            f"the store's schema is missing or old ({detail}); run `nexa db upgrade`",
            driver_error=type(orig).__name__,
        )
    return StoreUnavailableError(
        f"the operational store could not complete the call: {detail}",
        driver_error=type(orig).__name__,
    )


#: units of work that may share one SQLite commit (group commit)
LANE_MAX_BATCH = 64
#: SQLite: how long a unit waits for another process's write transaction (ms)
SQLITE_BUSY_TIMEOUT_MS = 30_000


class _Batch:
    """Units of work that share one SQLite transaction and so one COMMIT."""

    __slots__ = ("done", "error", "size")

    def __init__(self) -> None:
        self.done = anyio.Event()
        self.error: BaseException | None = None
        self.size = 0


class _Lane:
    """The SQLite writes of one event loop: one connection, units of work in turn.

    SQLite has one writer at a time, and a commit costs a ``fsync``. Units of work of
    an event loop take the lane in arrival order (a fair lock, no busy-waiting) and
    run their statements on its connection without a thread hop (a held write
    transaction never waits on a lock). Units share a transaction, each after the first
    inside a ``SAVEPOINT``: when one ends and others are queued, it hands the lane on and waits,
    and the last unit of the run commits for all (group commit). A unit that fails
    rolls back to its savepoint only; a failed ``COMMIT`` fails every unit of the
    batch, none of which is then durable. ``transaction()`` returns only once the
    unit's batch is committed.

    Other processes (and other event loops) are serialised by ``BEGIN IMMEDIATE``;
    when one of them holds the database, the lane waits for it on a worker thread.
    """

    def __init__(self, db: _Db) -> None:
        self.lock = anyio.Semaphore(1)
        self.conn = db.engine.connect().execution_options(nexa_lane=True, nexa_write=True)
        raw: Any = self.conn.connection.dbapi_connection
        raw.execute("PRAGMA busy_timeout=0")
        self.raw = raw
        self.batch: _Batch | None = None
        self.savepoint = False  # whether the current unit runs in a savepoint
        #: the task whose open unit of work holds the lane (a nested write from that
        #: same task would wait for itself); other tasks simply queue
        self.holder: int | None = None
        self.closed = False
        self.units = 0  # units of work ended on this lane
        self.commits = 0  # COMMITs issued for them

    async def enter(self) -> Connection:
        """Take the lane and open this unit's savepoint."""
        if self.holder is not None and self.holder == anyio.get_current_task().id:
            raise ConflictError(
                "this task's open unit of work holds the SQLite write lane; "
                "write through the transaction's store instead of the outer one"
            )
        await self.lock.acquire()
        try:
            if self.batch is None:
                await self._begin()
                self.batch = _Batch()
            # the first unit of a batch owns the transaction: no savepoint needed
            self.savepoint = self.batch.size > 0
            if self.savepoint:
                self.raw.execute("SAVEPOINT nexa_unit")
        except BaseException as exc:
            if self.batch is not None and not self.raw.in_transaction:
                self._close(self.batch, exc)  # the batch's transaction is gone
                raise
            if self.batch is None and self.raw.in_transaction:
                with contextlib.suppress(Exception):  # BEGIN went through, then we stopped
                    self.raw.rollback()
            self.lock.release()
            raise
        return self.conn

    async def _begin(self) -> None:
        try:
            self.raw.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise
            await anyio.to_thread.run_sync(self._begin_waiting)

    def _begin_waiting(self) -> None:
        self.raw.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        try:
            self.raw.execute("BEGIN IMMEDIATE")
        finally:
            self.raw.execute("PRAGMA busy_timeout=0")

    async def leave(self, ok: bool) -> None:
        """End this unit (keep or undo its work); with ``ok``, return once committed.

        Call shielded from cancellation: the outcome must be settled either way.
        """
        batch = self.batch
        assert batch is not None
        batch.size += 1
        self.units += 1
        try:
            if not self.raw.in_transaction:
                raise StoreUnavailableError("SQLite rolled the shared transaction back")
            if not self.savepoint:
                if not ok:  # alone in its transaction: undo all of it
                    self.raw.rollback()
                    self._close(batch, None)
                    return
            else:
                if not ok:
                    self.raw.execute("ROLLBACK TO nexa_unit")
                self.raw.execute("RELEASE nexa_unit")
        except Exception as exc:
            self._close(batch, exc)
            if ok:
                raise _unavailable(exc) from exc
            return
        if batch.size < LANE_MAX_BATCH and self.lock.statistics().tasks_waiting:
            self.lock.release()  # the next unit joins the batch; the batch's last one commits
            if ok:
                await self._committed(batch)
                if batch.error is not None:
                    raise _unavailable(batch.error) from batch.error
            return
        self._commit(batch, ok)

    def _commit(self, batch: _Batch, ok: bool) -> None:
        error: BaseException | None = None
        try:
            self.commits += 1
            self.raw.commit()
        except Exception as exc:
            error = exc
        self._close(batch, error)
        if error is not None and ok:
            raise _unavailable(error) from error

    async def _committed(self, batch: _Batch) -> None:
        """Wait for the unit that took the lane over to commit ``batch``. If that unit was
        cancelled before it joined (it gave the lane back untouched), nobody else would:
        take the lane back and commit the batch here."""
        while not batch.done.is_set():
            with anyio.move_on_after(0.05):
                await batch.done.wait()
            if batch.done.is_set() or self.batch is not batch or self.lock.value == 0:
                continue  # committed, or a unit is running in the lane: it commits
            self.lock.acquire_nowait()
            if self.batch is batch:
                with contextlib.suppress(Exception):
                    self._commit(batch, False)  # an error is reported through batch.error
            else:
                self.lock.release()

    def _close(self, batch: _Batch, error: BaseException | None) -> None:
        if error is not None:
            with contextlib.suppress(Exception):
                self.raw.rollback()
        batch.error = error
        self.batch = None
        batch.done.set()
        self.lock.release()

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        with contextlib.suppress(Exception):
            self.raw.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        self.conn.close()


class _TableStatements:
    """An aggregate table's hot statements, built once (parameters bound per call)."""

    def __init__(self, t: sa.Table, insert: Callable[[sa.Table], Any]) -> None:
        key = (t.c.urn == sa.bindparam("k_urn"), t.c.airline_urn == sa.bindparam("k_airline"))
        self.add = insert(t).on_conflict_do_nothing().returning(t.c.version)
        self.get = sa.select(t.c.doc, t.c.version).where(*key)
        self.update = sa.update(t).where(*key, t.c.version == sa.bindparam("k_version"))
        self.probe = sa.select(t.c.version).where(*key)
        self.raw_update = ""  # set by _Db (needs the driver's parameter style)


class _Db:
    """The engine and what every store object needs to know about it."""

    def __init__(self, engine: Engine, clock: Callable[[], datetime]) -> None:
        self.engine = engine
        self.clock = clock
        self.postgres = engine.dialect.name == "postgresql"
        self.sqlite = engine.dialect.name == "sqlite"
        self._lane_var: RunVar[_Lane] = RunVar("nexa_sql_lane")
        self._lanes: weakref.WeakSet[_Lane] = weakref.WeakSet()
        self.horizon = _OutboxHorizon(OUTBOX.name)
        self.insert = pg_dialect.insert if self.postgres else sqlite_dialect.insert
        self.statements = {name: _TableStatements(t, self.insert) for name, t in TABLES.items()}
        self.ph = "%s" if self.postgres else "?"
        self._inserts: dict[tuple[str, tuple[str, ...]], str] = {}
        for name, stmts in self.statements.items():
            stmts.raw_update = self.raw_update(TABLES[name], ("version", "doc", *_INDEXED[name]))
        if self.postgres:
            from psycopg.types.json import Jsonb

            self._jsonb: Callable[..., Any] = Jsonb

    def lane(self) -> _Lane:
        """SQLite: the write lane of the running event loop (made on first use)."""
        lane = self._lane_var.get(None)
        if lane is None or lane.closed:
            lane = _Lane(self)
            self._lane_var.set(lane)
            self._lanes.add(lane)
        return lane

    def close_lanes(self) -> None:
        for lane in list(self._lanes):
            lane.close()

    def raw_insert(self, table: sa.Table, names: tuple[str, ...]) -> str:
        """``INSERT`` text in the driver's parameter style (cached)."""
        key = (table.name, names)
        sql = self._inserts.get(key)
        if sql is None:
            cols = ", ".join(f'"{n}"' for n in names)
            sql = f"INSERT INTO {table.name} ({cols}) VALUES ({', '.join([self.ph] * len(names))})"
            self._inserts[key] = sql
        return sql

    def raw_update(self, table: sa.Table, names: tuple[str, ...]) -> str:
        """The versioned ``UPDATE`` of an aggregate row in the driver's parameter style."""
        ph = self.ph
        sets = ", ".join(f'"{n}" = {ph}' for n in names)
        return (
            f"UPDATE {table.name} SET {sets} "
            f"WHERE urn = {ph} AND airline_urn = {ph} AND version = {ph}"
        )

    def raw_value(self, name: str, value: Any) -> Any:
        """What SQLAlchemy's bind processing would send for this column value."""
        if name == "doc":  # JSON text encoded once by _encode
            return self._jsonb(value, _as_is) if self.postgres else value
        if isinstance(value, datetime) and not self.postgres:
            return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        return value


class _OutboxHorizon:
    """PostgreSQL: the outbox position up to which every row is final (committed or
    rolled back), so a relay reading ``position > p`` never passes over a record that
    commits later with a lower position.

    An append takes its transaction id (``pg_current_xact_id()``) before the sequence
    gives it a position. A reader notes the sequence's last value ``L``, then takes a
    transaction id ``X`` of its own together with a snapshot ``S``: every transaction
    holding a position ``<= L`` got its id before ``X``, so at ``S`` it was finished, in
    ``S``'s in-progress list, or had an id in ``[xmax(S), X)``. Once a later snapshot
    sees all of those finished, positions ``<= L`` are final. Checks that are not yet
    settled carry over to the next read, so under constant load the horizon trails by
    about one relay poll; a transaction left open holds it back (it may hold a position).
    Requires PostgreSQL 13+ and the default ``CACHE 1`` of the position sequence.
    """

    #: unsettled checks kept (a newer one covers an older one once settled)
    KEEP = 16

    def __init__(self, table: str) -> None:
        self.table = table
        self.sequence: str | None = None
        self.settled = 0
        self.checks: list[tuple[int, str, str, list[str]]] = []  # (L, X, xmax(S), xip(S))
        self.lock = threading.Lock()

    def upto(self, cur: Any) -> int:
        """Advance and return the horizon (runs inside the reader's transaction)."""
        with self.lock:
            if self.sequence is None:
                cur.execute("SELECT pg_get_serial_sequence(%s, 'position')", (self.table,))
                self.sequence = cur.fetchone()[0]
            cur.execute(f"SELECT last_value, is_called FROM {self.sequence}")
            last, called = cur.fetchone()
            cur.execute(
                "SELECT pg_current_xact_id()::text, pg_snapshot_xmax(s)::text,"
                " ARRAY(SELECT x::text FROM pg_snapshot_xip(s) AS x)"
                " FROM (SELECT pg_current_snapshot() AS s) AS snap"
            )
            x, xmax, xip = cur.fetchone()
            self.checks.append((last if called else 0, x, xmax, list(xip)))
            # one snapshot, newer than every check's: which checks are settled in it?
            cur.execute(
                "SELECT c.i FROM jsonb_to_recordset(%s::jsonb)"
                " AS c(i int, x text, xmax text, xip text[]),"
                " (SELECT pg_current_snapshot() AS s) AS snap"
                " WHERE pg_snapshot_xmax(s) >= c.x::xid8"
                " AND NOT EXISTS (SELECT 1 FROM pg_snapshot_xip(s) AS r"
                "   WHERE r >= c.xmax::xid8 AND r < c.x::xid8)"
                " AND NOT EXISTS (SELECT 1 FROM unnest(c.xip) AS t(v)"
                "   WHERE NOT pg_visible_in_snapshot(t.v::xid8, s))",
                (
                    json.dumps(
                        [
                            {"i": i, "x": cx, "xmax": cm, "xip": cxip}
                            for i, (_, cx, cm, cxip) in enumerate(self.checks)
                        ]
                    ),
                ),
            )
            done = {row[0] for row in cur.fetchall()}
            for i, (upto, *_) in enumerate(self.checks):
                if i in done:
                    self.settled = max(self.settled, upto)
            self.checks = [
                c for i, c in enumerate(self.checks) if i not in done and c[0] > self.settled
            ][-self.KEEP :]
            return self.settled


@attrs.frozen
class _Pending:
    """An insert whose result nobody waits for (audit, outbox), queued until needed."""

    table: sa.Table
    values: dict[str, Any]
    outbox: bool = False  # an outbox row: take the transaction id first (PostgreSQL)

    def raw(self, db: _Db) -> tuple[str, tuple[Any, ...]]:
        """The driver-level form (SQLAlchemy's per-statement work skipped on the hot path)."""
        names = tuple(sorted(self.values))
        sql = db.raw_insert(self.table, names)
        return sql, tuple(db.raw_value(n, self.values[n]) for n in names)


class _Scope:
    """Where statements run: a pinned connection in a transaction, else one per call.

    Inside a transaction, audit and outbox inserts are queued (their outcome cannot
    change the caller's next step): audit rows are written just before the next
    statement, outbox rows with the commit unless the transaction reads the outbox. On
    PostgreSQL the commit sends them and ``COMMIT`` in one pipeline: a state change
    costs the versioned UPDATE (with psycopg's BEGIN) and one pipeline.
    """

    def __init__(self, db: _Db, in_tx: bool) -> None:
        self.db = db
        self.in_tx = in_tx
        self.conn: Connection | None = None
        self.pending: list[_Pending] = []
        self.lane: _Lane | None = None
        self.has_xid = False  # PostgreSQL: this transaction has written a row already

    def _pinned(self) -> Connection:
        if self.conn is None:
            conn = self.db.engine.connect()
            conn.execution_options(nexa_write=True)
            conn.begin()
            self.conn = conn
        return self.conn

    def _flush(self, conn: Connection, *, outbox: bool = True) -> None:
        """Write queued rows; with ``outbox=False`` outbox rows stay queued for the commit
        (where they cost no round trip of their own)."""
        if not self.pending:
            return
        if outbox:
            pending, self.pending = self.pending, []
        else:
            pending = [p for p in self.pending if not p.outbox]
            self.pending = [p for p in self.pending if p.outbox]
        cur = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            if self._needs_xid(pending):
                cur.execute(_TAKE_XID)
            self.has_xid = self.has_xid or bool(pending)
            for p in pending:
                cur.execute(*p.raw(self.db))
        finally:
            cur.close()

    def _needs_xid(self, pending: list[_Pending]) -> bool:
        """PostgreSQL: an outbox row must have its transaction id before its position;
        any earlier row written in the transaction (or in this batch) already gave it one."""
        return (
            self.db.postgres
            and not self.has_xid
            and any(p.outbox for p in pending)
            and pending[0].outbox
        )

    def _in_tx(self, fn: Callable[[Connection], T], outbox: bool) -> T:
        conn = self._pinned()
        if self.pending:
            self._flush(conn, outbox=outbox)
        return fn(conn)

    def _own(self, fn: Callable[[Connection], T], write: bool) -> T:
        with self.db.engine.connect() as conn:
            if write:
                conn.execution_options(nexa_write=True)
            with conn.begin():
                return fn(conn)

    async def run(self, fn: Callable[[Connection], T], *, write: bool, outbox: bool = False) -> T:
        """Run ``fn`` on a connection; ``outbox``: it reads the outbox (write queued rows).

        SQLite writes and units of work go through the event loop's write lane
        (:class:`_Lane`); reads outside a unit of work, and everything on PostgreSQL,
        run on a worker thread with a pooled connection.
        """
        try:
            if self.db.sqlite and (self.in_tx or write):
                return await self._run_lane(fn)
            if self.in_tx:
                return await anyio.to_thread.run_sync(self._in_tx, fn, outbox)
            return await anyio.to_thread.run_sync(self._own, fn, write)
        except _UNAVAILABLE as exc:
            raise _unavailable(exc) from exc

    async def _run_lane(self, fn: Callable[[Connection], T]) -> T:
        if self.in_tx:
            conn = await self._hold()
            if self.pending:
                self._flush(conn)
            return fn(conn)
        lane = self.db.lane()  # a single call: a unit of its own
        conn = await lane.enter()
        ok = False
        try:
            result = fn(conn)
            ok = True
        finally:
            with anyio.CancelScope(shield=True):
                await lane.leave(ok)
        return result

    async def _hold(self) -> Connection:
        """The lane's connection, entering the lane on this unit's first statement."""
        if self.lane is None:
            lane = self.db.lane()
            conn = await lane.enter()
            self.lane = lane
            lane.holder = anyio.get_current_task().id
            return conn
        return self.lane.conn

    async def close(self, commit: bool) -> None:
        """End the unit of work: commit (or roll back) what it wrote. Call shielded."""
        try:
            if self.db.sqlite:
                await self._close_lane(commit)
            else:
                await anyio.to_thread.run_sync(self.finish, commit)
        except _UNAVAILABLE as exc:
            raise _unavailable(exc) from exc

    async def _close_lane(self, commit: bool) -> None:
        if not commit:
            self.pending.clear()
        elif self.pending and self.lane is None:
            await self._hold()
        lane, self.lane = self.lane, None
        if lane is None:
            return
        lane.holder = None
        try:
            if self.pending:
                self._flush(lane.conn)
        except BaseException:
            self.pending.clear()
            await lane.leave(False)
            raise
        await lane.leave(commit)

    async def insert(self, pending: _Pending) -> None:
        """Insert now (own transaction) or, inside a transaction, before what follows."""
        if self.in_tx:
            self.pending.append(pending)
            return

        def op(conn: Connection) -> None:
            once = _Scope(self.db, in_tx=True)
            once.pending.append(pending)
            once._flush(conn)

        await self.run(op, write=True)

    def finish(self, commit: bool) -> None:
        if not commit:
            self.pending.clear()
            if self.conn is None:
                return
        conn = self._pinned() if self.pending else self.conn
        self.conn = None
        if conn is None:
            return
        try:
            if not commit:
                conn.rollback()
            elif self.db.postgres and self.pending:
                self._pipeline_commit(conn)
            else:
                self._flush(conn)
                conn.commit()
        except BaseException:
            self.pending.clear()
            with contextlib.suppress(Exception):
                conn.rollback()
            raise
        finally:
            conn.close()

    def _pipeline_commit(self, conn: Connection) -> None:
        pending, self.pending = self.pending, []
        raw: Any = conn.connection.dbapi_connection
        with raw.pipeline(), raw.cursor() as cur:
            if self._needs_xid(pending):
                cur.execute(_TAKE_XID)
            for p in pending:
                cur.execute(*p.raw(self.db))
            raw.commit()
        conn.commit()  # SQLAlchemy's bookkeeping; the driver has nothing left to commit


class SqlAggregateStore(Generic[A]):
    """One table of tenant-scoped, versioned records (see :class:`AggregateStore`)."""

    def __init__(self, scope: _Scope, name: str) -> None:
        self._s = scope
        self._name = name
        self._table = TABLES[name]
        self._cls = RECORD_TYPES[name]
        self._stmts = scope.db.statements[name]
        self._set_names = ("version", "doc", *_INDEXED[name])
        self._raw_update = self._stmts.raw_update
        self.indexed: tuple[str, ...] = _INDEXED[name]

    def _check_tenant(self, tenant: TenantContext, item: Any) -> None:
        if item.airline_urn != tenant.airline_urn:
            raise NotFoundError(f"{item.urn} not found", urn=str(item.urn))

    def _row(self, item: Any, version: int, *, text: bool = False) -> dict[str, Any]:
        """The row of ``item``; ``doc`` as JSON text with ``text`` (raw statements)."""
        doc = unstructure(item)
        doc["version"] = version
        encoded = _encode(doc)
        row = {
            "urn": _key(item.urn),
            "airline_urn": str(item.airline_urn),
            "version": version,
            "doc": encoded if text else doc,
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
        stmt = self._stmts.add

        def op(conn: Connection) -> bool:
            return conn.execute(stmt, row).first() is not None

        if not await self._s.run(op, write=True):
            raise DuplicateError(f"{row['urn']} already exists", urn=row["urn"])
        return attrs.evolve(item, version=1)  # type: ignore[misc]

    async def get(self, tenant: TenantContext, urn: Urn) -> A:
        stmt = self._stmts.get
        params = {"k_urn": _key(urn), "k_airline": str(tenant.airline_urn)}

        def op(conn: Connection) -> Any:
            return conn.execute(stmt, params).first()

        row = await self._s.run(op, write=False)
        if row is None:
            raise NotFoundError(f"{urn} not found", urn=str(urn))
        return self._load(row.doc, row.version)

    async def update(self, tenant: TenantContext, item: A) -> A:
        self._check_tenant(tenant, item)
        current: int = item.version  # type: ignore[attr-defined]
        row = self._row(item, current + 1, text=True)
        key = row.pop("urn")
        where = {"k_urn": key, "k_airline": row.pop("airline_urn")}
        db = self._s.db
        sql = self._raw_update
        args = (
            *(db.raw_value(n, row[n]) for n in self._set_names),
            key,
            where["k_airline"],
            current,
        )
        probe = self._stmts.probe
        scope = self._s

        def op(conn: Connection) -> int | None:
            # plain statements: psycopg's pipeline mode would save the BEGIN round trip
            # but costs more client CPU than it saves on a local network
            cur = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
            try:
                cur.execute(sql, args)
                updated = cur.rowcount
            finally:
                cur.close()
            if updated == 1:
                scope.has_xid = True
                return current
            return conn.execute(probe, where).scalar()  # None: absent or another tenant's

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
        if entry.at.utcoffset() is None:
            raise InvalidInputError(
                f"audit entry {entry.urn} has a naive timestamp; attach a timezone", field="at"
            )
        doc = _encode(unstructure(entry))
        values = {
            "urn": str(entry.urn),
            "airline_urn": str(entry.airline_urn),
            "entity_urn": _key(entry.entity_urn),
            "action": entry.action,
            "correlation_urn": str(entry.correlation_urn) if entry.correlation_urn else None,
            "at": entry.at,
            "doc": doc,
        }
        await self._s.insert(_Pending(AUDIT, values))
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
        data = json.loads(_encode(unstructure(dict(result))))
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
        doc = _encode(unstructure(event))
        values = {
            "airline_urn": str(event.airline_urn),
            "type": event.type,
            "event_urn": str(event.urn),
            "key": event.key,
            "doc": doc,
        }
        await self._s.insert(_Pending(OUTBOX, values, outbox=True))

    async def read_after(self, position: int, *, limit: int = 100) -> list[OutboxRecord]:
        """Records after ``position`` in position order.

        Outside a transaction on PostgreSQL only positions below the
        :class:`_OutboxHorizon` are returned, so a relay never passes over a record
        still in flight. Inside a transaction every visible record is returned (the
        transaction's own appends included); relays read outside transactions.
        """
        o = OUTBOX.c
        stmt = (
            sa.select(o.position, o.doc)
            .where(o.position > position, o.position <= sa.bindparam("upto"))
            .order_by(o.position)
            .limit(limit)
        )
        horizon = self._s.db.horizon if self._s.db.postgres and not self._s.in_tx else None

        def op(conn: Connection) -> list[Any]:
            upto = 2**62
            if horizon is not None:
                cur = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
                try:
                    upto = horizon.upto(cur)
                finally:
                    cur.close()
                if upto <= position:
                    return []
            return list(conn.execute(stmt, {"upto": upto}))

        return [
            OutboxRecord(r.position, structure(r.doc, DomainEvent))
            for r in await self._s.run(op, write=False, outbox=True)
        ]

    async def head(self) -> int:
        """The highest readable position (below the horizon on PostgreSQL, like
        :meth:`read_after` outside a transaction)."""
        o = OUTBOX.c
        stmt = sa.select(sa.func.max(o.position)).where(o.position <= sa.bindparam("upto"))
        horizon = self._s.db.horizon if self._s.db.postgres and not self._s.in_tx else None

        def op(conn: Connection) -> int:
            upto = 2**62
            if horizon is not None:
                cur = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
                try:
                    upto = horizon.upto(cur)
                finally:
                    cur.close()
            return int(conn.execute(stmt, {"upto": upto}).scalar() or 0)

        return await self._s.run(op, write=False, outbox=True)

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


P = TypeVar("P")


class _Part(Generic[P]):
    """A part of a store (a table, the audit log, …), made on first access: a unit of
    work builds only the two or three parts it touches."""

    def __init__(self, make: Callable[[_Scope], P]) -> None:
        self._make = make
        self._name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self._name = name

    @overload
    def __get__(self, obj: None, owner: type | None = None) -> _Part[P]: ...
    @overload
    def __get__(self, obj: SqlStore, owner: type | None = None) -> P: ...
    def __get__(self, obj: SqlStore | None, owner: type | None = None) -> P | _Part[P]:
        if obj is None:
            return self
        part = self._make(obj._scope)
        obj.__dict__[self._name] = part  # later reads find the instance attribute
        return part


def _table(name: str) -> Callable[[_Scope], SqlAggregateStore[Any]]:
    return lambda scope: SqlAggregateStore(scope, name)


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

    cases = _Part(_table("cases"))
    sub_cases = _Part(_table("sub_cases"))
    policies = _Part(_table("policies"))
    demands = _Part(_table("demands"))
    waves = _Part(_table("waves"))
    reservations = _Part(_table("reservations"))
    contracts = _Part(_table("contracts"))
    cards = _Part(_table("cards"))
    transfers = _Part(_table("transfers"))
    notifications = _Part(_table("notifications"))
    reviews = _Part(_table("reviews"))
    dead_letters = _Part(_table("dead_letters"))
    card_accounts = _Part(_table("card_accounts"))
    audit = _Part(SqlAuditLog)
    idempotency = _Part(SqlIdempotencyStore)
    outbox = _Part(SqlOutbox)

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

    def lane_stats(self) -> dict[str, int]:
        """SQLite: units of work ended and COMMITs issued, over every write lane
        (``units / commits`` is the group-commit factor); zeros on PostgreSQL."""
        lanes = list(self._db._lanes)
        return {
            "units": sum(lane.units for lane in lanes),
            "commits": sum(lane.commits for lane in lanes),
        }

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
                await tx._scope.close(False)
            raise
        with anyio.CancelScope(shield=True):
            await tx._scope.close(True)

    async def close(self) -> None:
        """Release pooled connections."""
        self._db.close_lanes()
        await anyio.to_thread.run_sync(self._db.engine.dispose)
