"""structlog configuration: one pipeline for structlog and stdlib loggers.

Every line carries ``correlation_urn`` (bound with :func:`bind_correlation`, or taken from
:func:`nexa_core.tracing.current_correlation`) and passes :func:`mask_event_dict` before it
is rendered (JSON lines with ``log_json``, ``key=value`` otherwise). ``nexa_core`` logs
through stdlib :mod:`logging`; its records (and third-party ones) go through the same
processors via :class:`structlog.stdlib.ProcessorFormatter`.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from typing import Any, TextIO

import structlog

from nexa_adapters.observability.masking import mask_event_dict
from nexa_core.tracing import correlation_scope, current_correlation
from nexa_core.urn import Urn

__all__ = [
    "HANDLER_NAME",
    "add_correlation",
    "bind_correlation",
    "build_formatter",
    "configure_logging",
    "get_logger",
    "shared_processors",
]

HANDLER_NAME = "nexa"


def add_correlation(
    logger: Any, method_name: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """Put the current correlation URN on the line (a bound one wins)."""
    if event_dict.get("correlation_urn") is None:
        corr = current_correlation()
        if corr is not None:
            event_dict["correlation_urn"] = str(corr)
    return event_dict


def _drop_color_message(
    logger: Any, method_name: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    event_dict.pop("color_message", None)
    return event_dict


def shared_processors() -> list[Any]:
    """Processors run for structlog and stdlib records alike (before masking)."""
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        add_correlation,
        _drop_color_message,
    ]


def build_formatter(*, json_lines: bool) -> structlog.stdlib.ProcessorFormatter:
    """The formatter that masks and renders every record."""
    renderer: Any = (
        structlog.processors.JSONRenderer(serializer=lambda o, **kw: json.dumps(o, default=str))
        if json_lines
        else structlog.processors.KeyValueRenderer(
            key_order=["timestamp", "level", "logger", "event", "correlation_urn"],
            drop_missing=True,
        )
    )
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*shared_processors(), structlog.stdlib.ExtraAdder()],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.StackInfoRenderer(),
            structlog.processors.format_exc_info,
            mask_event_dict,
            renderer,
        ],
    )


def configure_logging(
    *,
    level: str | int = "INFO",
    json_lines: bool = False,
    stream: TextIO | None = None,
    handler: logging.Handler | None = None,
) -> logging.Handler:
    """Route structlog and stdlib logging through masking into one handler on the root.

    Idempotent: a previous Nexa handler is replaced. Returns the installed handler.
    """
    lvl = logging.getLevelName(level.upper()) if isinstance(level, str) else level
    if not isinstance(lvl, int):
        lvl = logging.INFO
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *shared_processors(),
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    out = handler or logging.StreamHandler(stream or sys.stderr)
    out.set_name(HANDLER_NAME)
    out.setFormatter(build_formatter(json_lines=json_lines))
    root = logging.getLogger()
    for h in list(root.handlers):
        if h.get_name() == HANDLER_NAME:
            root.removeHandler(h)
    root.addHandler(out)
    root.setLevel(lvl)
    return out


def get_logger(name: str = "nexa") -> Any:
    """A structlog logger (rendered through the Nexa pipeline once configured)."""
    return structlog.stdlib.get_logger(name)


@contextmanager
def bind_correlation(urn: Urn | str) -> Iterator[Urn]:
    """Every log line, event and outbound call inside the block carries ``urn``."""
    corr = urn if isinstance(urn, Urn) else Urn.parse(urn)
    with (
        correlation_scope(corr),
        structlog.contextvars.bound_contextvars(correlation_urn=str(corr)),
    ):
        yield corr
