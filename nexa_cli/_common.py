"""Shared CLI helpers: one-line errors, JSON output, exit codes."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from typing import Any, NoReturn, TypeVar

import typer

from nexa_core.errors import (
    AuthError,
    ConfigurationError,
    ConflictError,
    InvalidInputError,
    NexaError,
    NotFoundError,
)

__all__ = ["EXIT_CODES", "emit", "fail", "handle_errors", "read_document"]

F = TypeVar("F", bound=Callable[..., Any])

#: exit code per error family (first match wins)
EXIT_CODES: tuple[tuple[type[NexaError], int], ...] = (
    (InvalidInputError, 2),
    (NotFoundError, 3),
    (ConflictError, 4),
    (AuthError, 5),
    (ConfigurationError, 6),
    (NexaError, 1),
)


def fail(message: str, code: int = 1) -> NoReturn:
    """Print ``error: <message>`` on one line to stderr and exit."""
    one_line = " ".join(str(message).split())
    typer.echo(f"error: {one_line}", err=True)
    raise typer.Exit(code)


def handle_errors(fn: F) -> F:
    """Turn NexaError (and unreadable files) into a one-line error and an exit code."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except NexaError as exc:
            code = next(c for t, c in EXIT_CODES if isinstance(exc, t))
            fail(str(exc), code)
        except (FileNotFoundError, IsADirectoryError, PermissionError) as exc:
            fail(f"cannot read {exc.filename}: {exc.strerror}", 2)

    return wrapper  # type: ignore[return-value]


def emit(data: Any, *, as_json: bool, human: Callable[[Any], str] | None = None) -> None:
    """Print ``data`` as JSON or through ``human``."""
    if as_json:
        typer.echo(json.dumps(data, indent=2, sort_keys=False, default=str))
    else:
        typer.echo(human(data) if human else str(data))


MAX_DOCUMENT_BYTES = 20 * 1024 * 1024


def read_document(path: str) -> Any:
    """Load a JSON or YAML file (by extension; ``-`` = stdin JSON) with a size limit."""
    from nexa_core.errors import InputTooLargeError

    if path == "-":
        raw = sys.stdin.buffer.read(MAX_DOCUMENT_BYTES + 1)
    else:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_DOCUMENT_BYTES + 1)
    if len(raw) > MAX_DOCUMENT_BYTES:
        raise InputTooLargeError(f"{path} is larger than {MAX_DOCUMENT_BYTES} bytes", path=path)
    text = raw.decode("utf-8", errors="strict")
    if path.endswith((".yaml", ".yml")):
        import yaml

        try:
            return yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise InvalidInputError(f"{path} is not valid YAML: {exc}", path=path) from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInputError(
            f"{path} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}",
            path=path,
        ) from exc
