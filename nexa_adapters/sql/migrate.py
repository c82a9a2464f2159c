"""Run the shipped Alembic migrations programmatically (``nexa db upgrade``/``current``).

The migration scripts live in ``nexa_adapters/sql/migrations``; the version is kept in
the ``nexa_alembic_version`` table so an application's own Alembic history can share
the database.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

__all__ = ["MIGRATIONS_DIR", "VERSION_TABLE", "alembic_config", "current", "head", "upgrade"]

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
VERSION_TABLE = "nexa_alembic_version"


def alembic_config(engine: Engine | None = None) -> Config:
    """An Alembic config pointing at the shipped scripts (and at ``engine`` if given)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["engine"] = engine
    return cfg


def head() -> str:
    """The newest revision shipped with this version of Nexa."""
    rev = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert rev is not None
    return rev


def upgrade(engine: Engine, revision: str = "head") -> str | None:
    """Migrate the database behind ``engine`` to ``revision``; returns the new revision."""
    command.upgrade(alembic_config(engine), revision)
    return current(engine)


def current(engine: Engine) -> str | None:
    """The revision the database is at (``None`` before the first upgrade)."""
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
        return ctx.get_current_revision()
