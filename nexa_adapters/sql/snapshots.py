"""Passenger documents on SQL: the embedded read side (SQLite file, or a PostgreSQL table).

The snapshot store holds one JSON document per sub-case (``nexa_core.care.document``),
keyed by tenant and URN. It is a read model: every document can be rebuilt from the
operational records, so its table is created on first use rather than migrated, and a
SQLite file runs with ``synchronous=NORMAL`` (a power loss may drop the newest rewrite,
never a booking). By default it lives next to the operational store in its own file
(``nexa.db`` → ``nexa.snapshots.db``), so passenger refreshes never contend with the
sagas' writes; point ``NEXA_SNAPSHOT_URL`` at Redis to serve heavy passenger traffic.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import anyio.to_thread
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg_dialect
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.engine import Engine

from nexa_adapters.sql.store import create_sql_engine
from nexa_core.errors import ConfigurationError, InvalidInputError, NotFoundError
from nexa_core.pii import reject_card_numbers
from nexa_core.tenancy import TenantContext
from nexa_core.urn import Urn, without_status

__all__ = ["SNAPSHOTS", "SqlSnapshotStore", "snapshot_url_for"]

_META = sa.MetaData()
SNAPSHOTS = sa.Table(
    "nexa_passenger_snapshots",
    _META,
    sa.Column("airline_urn", sa.String(255), primary_key=True),
    sa.Column("urn", sa.String(255), primary_key=True),
    sa.Column("doc", sa.Text, nullable=False),
    sa.Column("updated_at", sa.String(40), nullable=False),
)


def snapshot_url_for(store_url: str) -> str:
    """Where the passenger documents of ``store_url`` live by default.

    A SQLite file gets a sibling (``…/nexa.db`` → ``…/nexa.snapshots.db``); PostgreSQL
    keeps them in their own table of the same database; anything else in memory.
    """
    if store_url.startswith("sqlite:"):
        base = store_url.partition("?")[0]
        if base in ("sqlite://", "sqlite:///", "sqlite:///:memory:"):
            return "memory://"
        stem = base[:-3] if base.endswith(".db") else base
        return f"{stem}.snapshots.db?synchronous=normal"
    if store_url.startswith("postgresql"):
        return store_url
    return "memory://"


class SqlSnapshotStore:
    """Documents in ``nexa_passenger_snapshots`` (tenant + URN), written with an upsert."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._ready = False
        self._lock = threading.Lock()
        dialect = sqlite_dialect if engine.dialect.name == "sqlite" else pg_dialect
        insert = dialect.insert(SNAPSHOTS)
        self._upsert = insert.on_conflict_do_update(
            index_elements=[SNAPSHOTS.c.airline_urn, SNAPSHOTS.c.urn],
            set_={"doc": insert.excluded.doc, "updated_at": insert.excluded.updated_at},
        )

    @classmethod
    def from_url(cls, url: str) -> SqlSnapshotStore:
        """``sqlite:///path.db`` or ``postgresql+psycopg://…`` (nothing connects yet)."""
        if not url.startswith(("sqlite:", "postgresql")):
            raise ConfigurationError(f"not a SQL snapshot URL: {url!r}", url=url)
        return cls(create_sql_engine(url))

    def _prepare(self) -> None:
        if self._ready:
            return
        with self._lock:
            if not self._ready:
                _META.create_all(self._engine, checkfirst=True)
                self._ready = True

    @staticmethod
    def _key(tenant: TenantContext, urn: Urn) -> tuple[str, str]:
        return str(tenant.airline_urn), str(without_status(urn))

    async def put(self, tenant: TenantContext, urn: Urn, document: Mapping[str, Any]) -> None:
        """Write (replace) the document for ``urn``."""
        reject_card_numbers(dict(document))
        try:
            text = json.dumps(dict(document), separators=(",", ":"), allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise InvalidInputError(
                f"snapshot for {urn} is not a JSON document: {exc}", urn=str(urn)
            ) from exc
        airline, key = self._key(tenant, urn)
        row = {
            "airline_urn": airline,
            "urn": key,
            "doc": text,
            "updated_at": datetime.now(UTC).isoformat(),
        }

        def write() -> None:
            self._prepare()
            with self._engine.connect() as conn:
                conn = conn.execution_options(nexa_write=True)  # SQLite: BEGIN IMMEDIATE
                with conn.begin():
                    conn.execute(self._upsert, row)

        await anyio.to_thread.run_sync(write)

    async def get(self, tenant: TenantContext, urn: Urn) -> Mapping[str, Any]:
        """The document; NotFoundError when absent or another tenant's."""
        airline, key = self._key(tenant, urn)
        query = sa.select(SNAPSHOTS.c.doc).where(
            SNAPSHOTS.c.airline_urn == airline, SNAPSHOTS.c.urn == key
        )

        def read() -> str | None:
            self._prepare()
            with self._engine.connect() as conn:
                value = conn.execute(query).scalar_one_or_none()
                return None if value is None else str(value)

        text = await anyio.to_thread.run_sync(read)
        if text is None:
            raise NotFoundError(f"{urn} not found", urn=str(urn))
        doc: dict[str, Any] = json.loads(text)
        return doc

    async def delete(self, tenant: TenantContext, urn: Urn) -> None:
        """Remove the document (no error when absent)."""
        airline, key = self._key(tenant, urn)
        stmt = sa.delete(SNAPSHOTS).where(
            SNAPSHOTS.c.airline_urn == airline, SNAPSHOTS.c.urn == key
        )

        def remove() -> None:
            self._prepare()
            with self._engine.connect() as conn:
                conn = conn.execution_options(nexa_write=True)
                with conn.begin():
                    conn.execute(stmt)

        await anyio.to_thread.run_sync(remove)

    async def close(self) -> None:
        """Dispose of the connection pool."""
        self._engine.dispose()
