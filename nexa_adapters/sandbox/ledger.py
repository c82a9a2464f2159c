"""A file-backed sandbox: bookings and soft-holds in one SQLite file, shared by processes.

Crash tests and multi-worker demos need what the partner and the coordination store saw
to survive a SIGKILL and to be visible from other processes: :class:`LedgerBooking`
records every booking (and every call) by idempotency key, :class:`LedgerHolds`
implements the soft-hold port with the same semantics as the in-process adapter.
Each call is one short SQLite transaction (``BEGIN IMMEDIATE``), so concurrent
processes serialise correctly.
"""

from __future__ import annotations

import hashlib
import os
import random
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from nexa_adapters.inprocess.coordination import InProcessCoordination
from nexa_adapters.sandbox.providers import FaultInjector
from nexa_core.errors import (
    CapacityError,
    InvalidInputError,
    NotFoundError,
    ProviderTimeoutError,
)
from nexa_core.model import Hold, Money, ReservationStatus
from nexa_core.ports import BookingConfirmation, BookingRequest
from nexa_core.tenancy import TenantContext
from nexa_core.urn import Urn, without_status

__all__ = ["LedgerBooking", "LedgerCoordination", "LedgerHolds", "SandboxLedger"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS bookings (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  vendor TEXT NOT NULL, key TEXT NOT NULL, reservation TEXT NOT NULL,
  offer TEXT NOT NULL, confirmation TEXT NOT NULL, rooms INTEGER NOT NULL,
  total TEXT NOT NULL, currency TEXT NOT NULL, cancelled INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS bookings_key ON bookings(vendor, key);
CREATE TABLE IF NOT EXISTS calls (
  id INTEGER PRIMARY KEY AUTOINCREMENT, vendor TEXT, op TEXT, key TEXT, outcome TEXT, pid INTEGER
);
CREATE TABLE IF NOT EXISTS inventory (
  tenant TEXT NOT NULL, offer TEXT NOT NULL, rooms INTEGER NOT NULL,
  PRIMARY KEY (tenant, offer)
);
CREATE TABLE IF NOT EXISTS holds (
  tenant TEXT NOT NULL, offer TEXT NOT NULL, attempt TEXT NOT NULL, rooms INTEGER NOT NULL,
  state TEXT NOT NULL, expires REAL NOT NULL, owner TEXT NOT NULL,
  PRIMARY KEY (tenant, offer, attempt)
);
"""


class SandboxLedger:
    """The SQLite file both adapters write to."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        with self.connect() as db:
            db.executescript(_SCHEMA)

    @contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        """One connection in autocommit mode (callers open their own transactions)."""
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            # WAL + NORMAL survives a killed process (the crash tests' concern); only a
            # power loss could drop the newest commits of this sandbox file
            db.execute("PRAGMA synchronous=NORMAL")
            yield db
        finally:
            db.close()

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """An immediate (write-locked) transaction."""
        with self.connect() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def bookings(self, *, live_only: bool = False) -> list[tuple[str, str, str, str]]:
        """(vendor, key, reservation, offer) of every booking (not cancelled if ``live_only``)."""
        sql = "SELECT vendor, key, reservation, offer FROM bookings"
        if live_only:
            sql += " WHERE cancelled = 0"
        with self.connect() as db:
            return [tuple(r) for r in db.execute(sql + " ORDER BY id")]  # type: ignore[misc]

    def duplicate_keys(self) -> list[tuple[str, str, int]]:
        """(vendor, key, count) for every key booked more than once."""
        with self.connect() as db:
            return list(
                db.execute(
                    "SELECT vendor, key, COUNT(*) FROM bookings GROUP BY vendor, key "
                    "HAVING COUNT(*) > 1"
                )
            )

    def calls(self, op: str = "book") -> int:
        """How many calls of ``op`` reached the partner."""
        with self.connect() as db:
            return int(db.execute("SELECT COUNT(*) FROM calls WHERE op = ?", (op,)).fetchone()[0])

    def calls_per_key(self, op: str = "book") -> dict[str, int]:
        """How many ``op`` calls each idempotency key received."""
        with self.connect() as db:
            rows = db.execute(
                "SELECT key, COUNT(*) FROM calls WHERE op = ? GROUP BY key", (op,)
            ).fetchall()
        return {k: int(n) for k, n in rows}

    def processes(self, op: str = "book") -> int:
        """How many distinct processes made ``op`` calls."""
        with self.connect() as db:
            row = db.execute("SELECT COUNT(DISTINCT pid) FROM calls WHERE op = ?", (op,)).fetchone()
        return int(row[0])

    def live_holds(self) -> int:
        """Rooms held, unexpired and neither confirmed nor released."""
        with self.connect() as db:
            row = db.execute(
                "SELECT COALESCE(SUM(rooms), 0) FROM holds WHERE state = 'held' AND expires > ?",
                (time.time(),),
            ).fetchone()
        return int(row[0])


def _ref(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:10].upper()


class LedgerBooking:
    """A sandbox booking partner recording to the ledger; idempotent per key.

    ``lost_reply_rate``: the booking is made but the reply is lost (a timeout the caller
    must retry with the same key — the classic duplicate-booking trap).
    """

    def __init__(
        self,
        ledger: SandboxLedger,
        name: str = "sandbox",
        *,
        faults: FaultInjector | None = None,
        lost_reply_rate: float = 0.0,
        seed: int = 11,
    ) -> None:
        self.ledger = ledger
        self.name = name
        self.faults = faults or FaultInjector()
        self.lost_reply_rate = lost_reply_rate
        self._rng = random.Random(seed)

    def _log(self, db: sqlite3.Connection, op: str, key: str, outcome: str) -> None:
        db.execute(
            "INSERT INTO calls (vendor, op, key, outcome, pid) VALUES (?, ?, ?, ?, ?)",
            (self.name, op, key, outcome, os.getpid()),
        )

    async def book(self, request: BookingRequest) -> BookingConfirmation:
        """Book once per key (a replay returns the first confirmation)."""
        key = request.idempotency_key
        with self.ledger.write() as db:
            row = db.execute(
                "SELECT confirmation, total, currency FROM bookings WHERE vendor = ? AND key = ?",
                (self.name, key),
            ).fetchone()
            if row is not None:
                self._log(db, "book", key, "replayed")
        if row is not None:
            return BookingConfirmation(
                request.reservation_urn, Urn.parse(row[0]), Money(row[1], row[2]), replayed=True
            )
        try:
            await self.faults.hit(self.name, "booking", key)
        except Exception as exc:
            with self.ledger.write() as db:
                self._log(db, "book", key, type(exc).__name__)
            raise
        rate = {r.room_type: r.nightly_rate for r in request.offer.rooms}
        total = sum((rate.get(t, Decimal(0)) for t in request.rooms), Decimal(0)) * max(
            1, request.offer.nights
        )
        confirmation = Urn("reservation", f"LDG-{_ref(self.name + key)}", self.name, "confirmed")
        with self.ledger.write() as db:
            db.execute(
                "INSERT INTO bookings (vendor, key, reservation, offer, confirmation, rooms, "
                "total, currency) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    self.name,
                    key,
                    str(request.reservation_urn),
                    str(request.offer.urn),
                    str(confirmation),
                    len(request.rooms),
                    str(total),
                    request.offer.currency,
                ),
            )
            self._log(db, "book", key, "booked")
        if self._rng.random() < self.lost_reply_rate:
            raise ProviderTimeoutError(f"{self.name}: reply lost (injected)", vendor=self.name)
        return BookingConfirmation(
            request.reservation_urn, confirmation, Money(total, request.offer.currency)
        )

    async def find(self, airline_urn: Urn, idempotency_key: str) -> BookingConfirmation | None:
        """The live booking made under ``idempotency_key`` (the saga's reconciliation)."""
        with self.ledger.connect() as db:
            row = db.execute(
                "SELECT reservation, confirmation, total, currency FROM bookings "
                "WHERE vendor = ? AND key = ? AND cancelled = 0",
                (self.name, idempotency_key),
            ).fetchone()
        if row is None:
            return None
        return BookingConfirmation(Urn.parse(row[0]), Urn.parse(row[1]), Money(row[2], row[3]))

    async def cancel(
        self, airline_urn: Urn, confirmation_urn: Urn, *, idempotency_key: str
    ) -> None:
        """Cancel (idempotent)."""
        await self.faults.hit(self.name, "cancel")
        with self.ledger.write() as db:
            db.execute(
                "UPDATE bookings SET cancelled = 1 WHERE confirmation = ?",
                (str(confirmation_urn),),
            )
            self._log(db, "cancel", idempotency_key, "cancelled")

    async def status(self, airline_urn: Urn, confirmation_urn: Urn) -> ReservationStatus:
        """CONFIRMED or CANCELLED; NotFoundError when unknown."""
        with self.ledger.connect() as db:
            row = db.execute(
                "SELECT cancelled FROM bookings WHERE confirmation = ?", (str(confirmation_urn),)
            ).fetchone()
        if row is None:
            raise NotFoundError(f"{confirmation_urn} not found", urn=str(confirmation_urn))
        return ReservationStatus.CANCELLED if row[0] else ReservationStatus.CONFIRMED


class LedgerHolds:
    """The soft-hold port over the ledger (available = inventory − live holds − confirmed)."""

    def __init__(self, ledger: SandboxLedger) -> None:
        self.ledger = ledger

    @staticmethod
    def _k(tenant: TenantContext, urn: Urn) -> tuple[str, str]:
        return str(tenant.airline_urn), str(without_status(urn))

    def _available(self, db: sqlite3.Connection, tenant: str, offer: str) -> int:
        inv = db.execute(
            "SELECT rooms FROM inventory WHERE tenant = ? AND offer = ?", (tenant, offer)
        ).fetchone()
        if inv is None:
            raise NotFoundError(f"{offer} has no declared inventory", urn=offer)
        used = db.execute(
            "SELECT COALESCE(SUM(rooms), 0) FROM holds WHERE tenant = ? AND offer = ? "
            "AND (state = 'confirmed' OR expires > ?)",
            (tenant, offer, time.time()),
        ).fetchone()[0]
        return int(inv[0]) - int(used)

    async def set_inventory(
        self, tenant: TenantContext, offer_urn: Urn, rooms: int, *, ttl: timedelta
    ) -> None:
        t, o = self._k(tenant, offer_urn)
        with self.ledger.write() as db:
            db.execute(
                "INSERT INTO inventory (tenant, offer, rooms) VALUES (?, ?, ?) "
                "ON CONFLICT (tenant, offer) DO UPDATE SET rooms = excluded.rooms",
                (t, o, rooms),
            )

    async def acquire(
        self,
        tenant: TenantContext,
        offer_urn: Urn,
        attempt_urn: Urn,
        rooms: int,
        *,
        ttl: timedelta,
        owner: str = "",
    ) -> Hold:
        if rooms < 1:
            raise InvalidInputError("a hold needs at least one room", field="rooms")
        t, o = self._k(tenant, offer_urn)
        a = str(without_status(attempt_urn))
        expires = time.time() + ttl.total_seconds()
        with self.ledger.write() as db:
            row = db.execute(
                "SELECT rooms, state, expires, owner FROM holds WHERE tenant = ? AND offer = ? "
                "AND attempt = ?",
                (t, o, a),
            ).fetchone()
            if row is not None and (row[1] == "confirmed" or row[2] > time.time()):
                return Hold(
                    attempt_urn, offer_urn, row[0], datetime.fromtimestamp(row[2], UTC), row[3]
                )
            left = self._available(db, t, o)
            if left < rooms:
                raise CapacityError(
                    f"{offer_urn}: {rooms} rooms requested, {max(left, 0)} available",
                    urn=str(offer_urn),
                )
            db.execute(
                "INSERT OR REPLACE INTO holds VALUES (?, ?, ?, ?, 'held', ?, ?)",
                (t, o, a, rooms, expires, owner),
            )
        return Hold(attempt_urn, offer_urn, rooms, datetime.fromtimestamp(expires, UTC), owner)

    async def confirm(self, tenant: TenantContext, offer_urn: Urn, attempt_urn: Urn) -> None:
        t, o = self._k(tenant, offer_urn)
        a = str(without_status(attempt_urn))
        with self.ledger.write() as db:
            row = db.execute(
                "SELECT state, expires FROM holds WHERE tenant = ? AND offer = ? AND attempt = ?",
                (t, o, a),
            ).fetchone()
            if row is None or (row[0] == "held" and row[1] <= time.time()):
                raise NotFoundError(f"{attempt_urn} holds nothing on {offer_urn}", urn=a)
            db.execute(
                "UPDATE holds SET state = 'confirmed' WHERE tenant = ? AND offer = ? "
                "AND attempt = ?",
                (t, o, a),
            )

    async def release(self, tenant: TenantContext, offer_urn: Urn, attempt_urn: Urn) -> None:
        t, o = self._k(tenant, offer_urn)
        with self.ledger.write() as db:
            db.execute(
                "DELETE FROM holds WHERE tenant = ? AND offer = ? AND attempt = ?",
                (t, o, str(without_status(attempt_urn))),
            )

    async def available(self, tenant: TenantContext, offer_urn: Urn) -> int:
        t, o = self._k(tenant, offer_urn)
        with self.ledger.connect() as db:
            return self._available(db, t, o)


class LedgerCoordination(InProcessCoordination):
    """Durable holds from the ledger; locks, limits and breakers of this process."""

    def __init__(self, ledger: SandboxLedger) -> None:
        super().__init__()
        self._ledger_holds = LedgerHolds(ledger)

    @property
    def holds(self) -> LedgerHolds:  # type: ignore[override]
        return self._ledger_holds
