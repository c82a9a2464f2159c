"""The operational schema: one table per aggregate plus audit, idempotency and outbox.

Every aggregate table has the same shape: ``urn`` (the URN without its status segment,
primary key), ``airline_urn`` (the tenant), ``version``, ``doc`` (the record as JSON, from
:mod:`nexa_core.serialization`) and one indexed column per filterable attribute
(:data:`nexa_adapters.memory.INDEXES`). The same metadata serves SQLite and PostgreSQL;
the Alembic migrations in ``migrations/`` build exactly this schema (a test compares them).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from nexa_adapters.memory.store import INDEXES
from nexa_core.model import (
    AllocationWave,
    CardAccount,
    Case,
    Contract,
    DemandRequest,
    IssuedCard,
    ManualReviewItem,
    Notification,
    PolicyRecord,
    Reservation,
    SubCase,
    Transfer,
)
from nexa_core.ports import DeadLetter

__all__ = [
    "AUDIT",
    "IDEMPOTENCY",
    "METADATA",
    "OUTBOX",
    "OUTBOX_POSITIONS",
    "RECORD_TYPES",
    "TABLES",
    "TABLE_PREFIX",
    "UtcDateTime",
]

TABLE_PREFIX = "nexa_"

#: store attribute → the attrs class its rows hold
RECORD_TYPES: dict[str, type[Any]] = {
    "cases": Case,
    "sub_cases": SubCase,
    "policies": PolicyRecord,
    "demands": DemandRequest,
    "waves": AllocationWave,
    "reservations": Reservation,
    "contracts": Contract,
    "cards": IssuedCard,
    "transfers": Transfer,
    "notifications": Notification,
    "reviews": ManualReviewItem,
    "dead_letters": DeadLetter,
    "card_accounts": CardAccount,
}


class UtcDateTime(sa.TypeDecorator[datetime]):
    """A timezone-aware datetime stored in UTC (naive UTC text on SQLite, so it sorts)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; attach a timezone")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _urn_type() -> sa.types.TypeEngine[str]:
    # Byte-order collation on PostgreSQL so "ordered by URN" means what Python's sort means.
    return sa.String(255).with_variant(sa.String(255, collation="C"), "postgresql")


def _doc_type() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _position_type() -> sa.types.TypeEngine[int]:
    # SQLite needs INTEGER PRIMARY KEY (a rowid alias) for AUTOINCREMENT.
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


METADATA = sa.MetaData()


def _aggregate_table(name: str) -> sa.Table:
    tname = f"{TABLE_PREFIX}{name}"
    fields = INDEXES[name]
    return sa.Table(
        tname,
        METADATA,
        sa.Column("urn", _urn_type(), primary_key=True),
        sa.Column("airline_urn", sa.String(255), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        *(sa.Column(f, sa.String(255), nullable=True) for f in fields),
        sa.Column("doc", _doc_type(), nullable=False),
        sa.Index(f"ix_{tname}_tenant", "airline_urn", "urn"),
        *(sa.Index(f"ix_{tname}_{f}", "airline_urn", f) for f in fields),
    )


#: store attribute → its table
TABLES: dict[str, sa.Table] = {name: _aggregate_table(name) for name in INDEXES}

AUDIT = sa.Table(
    f"{TABLE_PREFIX}audit",
    METADATA,
    sa.Column("seq", _position_type(), primary_key=True, autoincrement=True),
    sa.Column("urn", sa.String(255), nullable=False),
    sa.Column("airline_urn", sa.String(255), nullable=False),
    sa.Column("entity_urn", sa.String(255), nullable=False),
    sa.Column("action", sa.String(255), nullable=False),
    sa.Column("correlation_urn", sa.String(255), nullable=True),
    sa.Column("at", UtcDateTime(), nullable=False),
    sa.Column("doc", _doc_type(), nullable=False),
    sa.Index(f"ix_{TABLE_PREFIX}audit_entity", "airline_urn", "entity_urn", "at"),
    sa.Index(f"ix_{TABLE_PREFIX}audit_action", "airline_urn", "action", "at"),
    sa.Index(f"ix_{TABLE_PREFIX}audit_correlation", "airline_urn", "correlation_urn"),
    sa.Index(f"ix_{TABLE_PREFIX}audit_at", "airline_urn", "at"),
)

IDEMPOTENCY = sa.Table(
    f"{TABLE_PREFIX}idempotency",
    METADATA,
    sa.Column("airline_urn", sa.String(255), primary_key=True),
    sa.Column("scope", sa.String(255), primary_key=True),
    sa.Column("key", sa.String(512), primary_key=True),
    sa.Column("result", _doc_type(), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("expires_at", UtcDateTime(), nullable=False),
    sa.Index(f"ix_{TABLE_PREFIX}idempotency_expires", "expires_at"),
)

OUTBOX = sa.Table(
    f"{TABLE_PREFIX}outbox",
    METADATA,
    sa.Column("position", _position_type(), primary_key=True, autoincrement=True),
    sa.Column("airline_urn", sa.String(255), nullable=False),
    sa.Column("type", sa.String(255), nullable=False),
    sa.Column("event_urn", sa.String(255), nullable=False),
    sa.Column("key", sa.String(512), nullable=False),
    sa.Column("doc", _doc_type(), nullable=False),
    sqlite_autoincrement=True,
)

OUTBOX_POSITIONS = sa.Table(
    f"{TABLE_PREFIX}outbox_positions",
    METADATA,
    sa.Column("consumer", sa.String(255), primary_key=True),
    sa.Column("position", sa.BigInteger(), nullable=False),
)
