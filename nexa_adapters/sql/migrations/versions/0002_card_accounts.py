"""Card accounts: the authorizer balance of partner-issued cards (loads, holds).

Revision ID: card_accounts
Revises: 0001
Create Date: 2026-12-07

Frozen copy of the table at this revision (never import the live models here): the same
shape as every aggregate table (URN, tenant, version, indexed ``vendor_ref``, document).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "card_accounts"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "nexa_card_accounts"


def _urn() -> sa.types.TypeEngine[str]:
    return sa.String(255).with_variant(sa.String(255, collation="C"), "postgresql")


def _doc() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("urn", _urn(), primary_key=True),
        sa.Column("airline_urn", sa.String(255), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("vendor_ref", sa.String(255), nullable=True),
        sa.Column("doc", _doc(), nullable=False),
    )
    op.create_index(f"ix_{TABLE}_tenant", TABLE, ["airline_urn", "urn"])
    op.create_index(f"ix_{TABLE}_vendor_ref", TABLE, ["airline_urn", "vendor_ref"])


def downgrade() -> None:
    op.drop_table(TABLE)
