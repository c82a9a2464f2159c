"""``nexa config`` — resolved settings."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from nexa_adapters.settings import Settings
from nexa_cli._common import emit, handle_errors

config_app = typer.Typer(help="Show the resolved configuration.", no_args_is_help=True)


@config_app.command("show")
@handle_errors
def show(
    config: Annotated[
        Path | None, typer.Option("--config", help="Path to nexa.toml (default ./nexa.toml).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Print settings resolved from flags, NEXA_* variables and nexa.toml (secrets masked)."""
    data = Settings.load(config).masked()
    emit(data, as_json=as_json, human=lambda d: "\n".join(f"{k} = {v}" for k, v in d.items()))


def register(app: typer.Typer) -> None:
    """Attach ``nexa config``."""
    app.add_typer(config_app, name="config")
