"""``nexa db`` — migrate the operational database (``upgrade``, ``current``)."""

from __future__ import annotations

from typing import Annotated

import sqlalchemy as sa
import typer

from nexa_adapters.settings import Settings
from nexa_adapters.sql import create_sql_engine
from nexa_adapters.sql.migrate import current, head, upgrade
from nexa_cli._common import emit, fail, handle_errors

db_app = typer.Typer(help="Operational database schema (Alembic migrations).", no_args_is_help=True)

UrlOption = Annotated[
    str | None,
    typer.Option("--url", help="Database URL (default: the store_url setting)."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _url(url: str | None) -> str:
    return url or Settings.load().store_url


def _cause(exc: sa.exc.SQLAlchemyError) -> str:
    """The driver's error, first line only (drivers never echo passwords)."""
    orig = getattr(exc, "orig", None) or exc
    first = (str(orig).strip().splitlines() or [""])[0][:200]
    return f"{type(orig).__name__}: {first}" if first else type(orig).__name__


def _shown(url: str) -> str:
    return sa.engine.make_url(url).render_as_string(hide_password=True)


@db_app.command("upgrade")
@handle_errors
def upgrade_cmd(
    url: UrlOption = None,
    revision: Annotated[str, typer.Option("--revision", help="Target revision.")] = "head",
    as_json: JsonOption = False,
) -> None:
    """Apply migrations up to ``--revision`` (default: the newest)."""
    target = _url(url)
    engine = create_sql_engine(target)
    try:
        before = current(engine)
        after = upgrade(engine, revision)
    except sa.exc.SQLAlchemyError as exc:
        fail(f"cannot migrate {_shown(target)}: {_cause(exc)}", 1)
    finally:
        engine.dispose()
    data = {"url": _shown(target), "from": before, "to": after, "head": head()}
    emit(
        data, as_json=as_json, human=lambda d: f"{d['url']}: {d['from'] or '(empty)'} -> {d['to']}"
    )


@db_app.command("current")
@handle_errors
def current_cmd(url: UrlOption = None, as_json: JsonOption = False) -> None:
    """Show the database's revision and the newest one shipped."""
    target = _url(url)
    engine = create_sql_engine(target)
    try:
        rev = current(engine)
    except sa.exc.SQLAlchemyError as exc:
        fail(f"cannot read {_shown(target)}: {_cause(exc)}", 1)
    finally:
        engine.dispose()
    data = {"url": _shown(target), "current": rev, "head": head(), "up_to_date": rev == head()}

    def human(d: dict[str, object]) -> str:
        state = "up to date" if d["up_to_date"] else f"behind (head is {d['head']})"
        return f"{d['url']}: {d['current'] or '(empty)'} — {state}"

    emit(data, as_json=as_json, human=human)


def register(app: typer.Typer) -> None:
    """Attach ``nexa db``."""
    app.add_typer(db_app, name="db")
