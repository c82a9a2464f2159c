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


def read_document(path: str, *, kind: str = "cli") -> Any:
    """Load a JSON or YAML file (by extension; ``-`` = stdin JSON) safely.

    ``kind`` picks the limits (``manifest``, ``policy``, ``inventory``, ``webhook``, ``cli``;
    see :data:`nexa_adapters.documents.safe_json.LIMITS`): size, depth, item count, no
    NaN/Infinity, no duplicate keys, no huge integers, no YAML aliases, no hidden characters.
    """
    from nexa_adapters.documents.safe_json import LIMITS, load_document
    from nexa_core.errors import InputTooLargeError

    limits = LIMITS.get(kind, LIMITS["cli"])
    cap = min(limits.max_bytes, MAX_DOCUMENT_BYTES)
    if path == "-":
        raw = sys.stdin.buffer.read(cap + 1)
    else:
        with open(path, "rb") as fh:
            raw = fh.read(cap + 1)
    if len(raw) > cap:
        raise InputTooLargeError(f"{path} is larger than {cap} bytes", path=path)
    fmt = "yaml" if path.endswith((".yaml", ".yml")) else "json"
    return load_document(raw, format=fmt, limits=limits, what=path)
