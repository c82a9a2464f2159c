"""The ``nexa`` command-line interface (a Typer app over the adapters)."""

from nexa_cli.app import app, main

__all__ = ["app", "main"]
