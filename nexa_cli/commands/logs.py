"""``nexa logs`` — check captured log output for leaks."""

from __future__ import annotations

from typing import Annotated

import typer

from nexa_adapters.observability.testing import log_problems
from nexa_cli._common import emit, fail, handle_errors
from nexa_core.errors import InputTooLargeError
from nexa_core.urn import Urn

logs_app = typer.Typer(help="Inspect log output.", no_args_is_help=True)

MAX_LOG_BYTES = 512 * 1024 * 1024


@logs_app.command("check")
@handle_errors
def check(
    path: Annotated[str, typer.Argument(help="A log file (one line per record).")],
    correlation: Annotated[
        str | None,
        typer.Option("--correlation", help="Require this correlation URN on every line."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Fail (exit 1) if a line holds an e-mail, phone, card number or token, or lacks the
    correlation URN. Problems are reported by line number only."""
    corr = Urn.parse(correlation) if correlation else None
    with open(path, "rb") as fh:
        raw = fh.read(MAX_LOG_BYTES + 1)
    if len(raw) > MAX_LOG_BYTES:
        raise InputTooLargeError(f"{path} is larger than {MAX_LOG_BYTES} bytes", path=path)
    lines = [ln for ln in raw.decode("utf-8", errors="replace").splitlines() if ln.strip()]
    problems = log_problems(lines, corr)
    emit(
        {"lines": len(lines), "problems": problems},
        as_json=as_json,
        human=lambda d: "\n".join(d["problems"]) or f"{d['lines']} lines, all clean",
    )
    if problems:
        fail(f"{len(problems)} of {len(lines)} log lines are not clean", 1)


def register(app: typer.Typer) -> None:
    """Attach ``nexa logs``."""
    app.add_typer(logs_app, name="logs")
