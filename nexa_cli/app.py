"""The Typer application. Command groups live in ``nexa_cli.commands.*`` and register
themselves through a ``register(app)`` function, so adding a group touches no shared file."""

from __future__ import annotations

import importlib
import pkgutil
from typing import Annotated

import typer

import nexa_cli.commands as _commands
from nexa_core import __version__

__all__ = ["app", "main"]

app = typer.Typer(
    name="nexa",
    help="Nexa: airline disruption care — cases, policies, allocation, booking, care delivery.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"nexa {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    """Nexa command-line interface."""


for _info in sorted(pkgutil.iter_modules(_commands.__path__), key=lambda m: m.name):
    _mod = importlib.import_module(f"nexa_cli.commands.{_info.name}")
    _register = getattr(_mod, "register", None)
    if _register is not None:
        _register(app)


def main() -> None:
    """Console-script entry point."""
    app()
