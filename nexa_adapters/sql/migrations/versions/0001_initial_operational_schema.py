"""Initial operational schema: aggregates, audit, idempotency, outbox.

Revision ID: 0001
Revises:
Create Date: 2026-11-22

Frozen copy of the schema at this revision (never import the live models here). Audit
and outbox are insert-only: triggers refuse UPDATE and DELETE (and TRUNCATE on
PostgreSQL).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: aggregate table → indexed attribute columns (frozen at this revision)
AGGREGATES: dict[str, tuple[str, ...]] = {
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
}
APPEND_ONLY = ("nexa_audit", "nexa_outbox")


def _urn() -> sa.types.TypeEngine[str]:
    return sa.String(255).with_variant(sa.String(255, collation="C"), "postgresql")


def _doc() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _serial() -> sa.types.TypeEngine[int]:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    for name, fields in AGGREGATES.items():
        table = f"nexa_{name}"
        op.create_table(
            table,
            sa.Column("urn", _urn(), primary_key=True),
            sa.Column("airline_urn", sa.String(255), nullable=False),
            sa.Column("version", sa.Integer(), nullable=False),
            *(sa.Column(f, sa.String(255), nullable=True) for f in fields),
            sa.Column("doc", _doc(), nullable=False),
        )
        op.create_index(f"ix_{table}_tenant", table, ["airline_urn", "urn"])
        for f in fields:
            op.create_index(f"ix_{table}_{f}", table, ["airline_urn", f])

    op.create_table(
        "nexa_audit",
        sa.Column("seq", _serial(), primary_key=True, autoincrement=True),
        sa.Column("urn", sa.String(255), nullable=False),
        sa.Column("airline_urn", sa.String(255), nullable=False),
        sa.Column("entity_urn", sa.String(255), nullable=False),
        sa.Column("action", sa.String(255), nullable=False),
        sa.Column("correlation_urn", sa.String(255), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("doc", _doc(), nullable=False),
    )
    op.create_index("ix_nexa_audit_entity", "nexa_audit", ["airline_urn", "entity_urn", "at"])
    op.create_index("ix_nexa_audit_action", "nexa_audit", ["airline_urn", "action", "at"])
    op.create_index("ix_nexa_audit_correlation", "nexa_audit", ["airline_urn", "correlation_urn"])
    op.create_index("ix_nexa_audit_at", "nexa_audit", ["airline_urn", "at"])

    op.create_table(
        "nexa_idempotency",
        sa.Column("airline_urn", sa.String(255), primary_key=True),
        sa.Column("scope", sa.String(255), primary_key=True),
        sa.Column("key", sa.String(512), primary_key=True),
        sa.Column("result", _doc(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_nexa_idempotency_expires", "nexa_idempotency", ["expires_at"])

    op.create_table(
        "nexa_outbox",
        sa.Column("position", _serial(), primary_key=True, autoincrement=True),
        sa.Column("airline_urn", sa.String(255), nullable=False),
        sa.Column("type", sa.String(255), nullable=False),
        sa.Column("event_urn", sa.String(255), nullable=False),
        sa.Column("key", sa.String(512), nullable=False),
        sa.Column("doc", _doc(), nullable=False),
        sqlite_autoincrement=True,  # positions are never reused, even if rows vanished
    )
    op.create_table(
        "nexa_outbox_positions",
        sa.Column("consumer", sa.String(255), primary_key=True),
        sa.Column("position", sa.BigInteger(), nullable=False),
    )

    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            CREATE FUNCTION nexa_reject_change() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION 'nexa: % on % is not allowed (insert-only table)',
                    TG_OP, TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
            END $$
            """
        )
        for table in APPEND_ONLY:
            op.execute(
                f"CREATE TRIGGER {table}_insert_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION nexa_reject_change()"
            )
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION nexa_reject_change()"
            )
    else:
        for table in APPEND_ONLY:
            for action in ("UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, 'nexa: {action} on {table} is not allowed "
                    "(insert-only table)'); END"
                )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in APPEND_ONLY:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_insert_only ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        op.execute("DROP FUNCTION IF EXISTS nexa_reject_change()")
    for table in ("nexa_outbox_positions", "nexa_outbox", "nexa_idempotency", "nexa_audit"):
        op.drop_table(table)
    for name in AGGREGATES:
        op.drop_table(f"nexa_{name}")
