"""Migrations build exactly the models' schema; audit and outbox refuse UPDATE/DELETE."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Engine

from nexa_adapters.sql import create_sql_engine
from nexa_adapters.sql.migrate import VERSION_TABLE, current, head, upgrade
from nexa_adapters.sql.schema import METADATA


def _diff(engine: Engine) -> list[Any]:
    with engine.connect() as conn:
        ctx = MigrationContext.configure(
            conn,
            opts={
                "compare_type": True,
                "compare_server_default": True,
                "version_table": VERSION_TABLE,
                "include_name": lambda name, type_, _parent: name != VERSION_TABLE,
            },
        )
        return list(compare_metadata(ctx, METADATA))


def _seed_append_only(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO nexa_audit (urn, airline_urn, entity_urn, action, at, doc) "
                "VALUES ('urn:audit:a-1', 'urn:airline:LAN', 'urn:case:c-1', 'x', "
                "CURRENT_TIMESTAMP, '{}')"
            )
        )
        conn.execute(
            sa.text(
                "INSERT INTO nexa_outbox (airline_urn, type, event_urn, key, doc) "
                "VALUES ('urn:airline:LAN', 'case.created', 'urn:event:e-1', 'k', '{}')"
            )
        )


_CHANGES = [
    "UPDATE nexa_audit SET action = 'forged'",
    "DELETE FROM nexa_audit",
    "UPDATE nexa_outbox SET key = 'forged'",
    "DELETE FROM nexa_outbox",
]


def test_sqlite_migrations_match_the_models(sqlite_url: str) -> None:
    engine = create_sql_engine(sqlite_url)
    assert current(engine) == head()
    assert _diff(engine) == []


def test_upgrade_is_idempotent_and_reports_head(sqlite_url: str) -> None:
    engine = create_sql_engine(sqlite_url)
    assert upgrade(engine) == head()
    assert upgrade(engine) == head()


def test_an_empty_database_is_at_no_revision(tmp_path: Any) -> None:
    engine = create_sql_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    assert current(engine) is None


@pytest.mark.parametrize("statement", _CHANGES)
def test_sqlite_triggers_refuse_changing_audit_and_outbox(sqlite_url: str, statement: str) -> None:
    engine = create_sql_engine(sqlite_url)
    _seed_append_only(engine)
    with pytest.raises(sa.exc.DatabaseError, match="insert-only"), engine.begin() as conn:
        conn.execute(sa.text(statement))
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM nexa_audit")).scalar() == 1
        assert conn.execute(sa.text("SELECT count(*) FROM nexa_outbox")).scalar() == 1


@pytest.mark.postgres
def test_postgres_migrations_match_the_models(pg_engine: Engine) -> None:
    assert current(pg_engine) == head()
    assert _diff(pg_engine) == []


@pytest.mark.postgres
@pytest.mark.parametrize("statement", [*_CHANGES, "TRUNCATE nexa_audit", "TRUNCATE nexa_outbox"])
def test_postgres_triggers_refuse_changing_audit_and_outbox(
    pg_engine: Engine, statement: str
) -> None:
    _seed_append_only(pg_engine)
    with pytest.raises(sa.exc.DatabaseError, match="insert-only"), pg_engine.begin() as conn:
        conn.execute(sa.text(statement))
    with pg_engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM nexa_audit")).scalar() == 1
        assert conn.execute(sa.text("SELECT count(*) FROM nexa_outbox")).scalar() == 1


def test_processes_starting_together_migrate_one_after_the_other(tmp_path: Any) -> None:
    import subprocess
    import sys
    from pathlib import Path

    url = f"sqlite:///{tmp_path / 'race.db'}"
    code = (
        "import sys; from nexa_adapters.sql import create_sql_engine; "
        "from nexa_adapters.sql.migrate import upgrade; upgrade(create_sql_engine(sys.argv[1]))"
    )
    root = Path(__file__).resolve().parents[2]
    procs = [
        subprocess.Popen([sys.executable, "-c", code, url], cwd=root, stderr=subprocess.PIPE)
        for _ in range(3)
    ]
    outcomes = [(p.communicate(timeout=60)[1].decode(), p.returncode) for p in procs]
    assert [err for err, rc in outcomes if rc != 0] == []
    assert current(create_sql_engine(url)) == head()
