"""Log capture for tests: run code, collect every rendered line, prove it is clean.

    with capture_logs() as logs:
        with bind_correlation(corr):
            run_the_pipeline()
    assert_clean_logs(logs.lines, corr)

Lines go through the production pipeline (:func:`configure_logging`, JSON), so the test
checks what an operator would really see.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import attrs
import structlog

from nexa_adapters.observability.logs import HANDLER_NAME, configure_logging
from nexa_adapters.observability.masking import EMAIL_RE, JWT_RE, PHONE_RE
from nexa_core.pii import find_card_numbers
from nexa_core.urn import Urn

__all__ = ["LogCapture", "assert_clean_logs", "capture_logs", "log_problems"]


class _ListHandler(logging.Handler):
    def __init__(self, sink: list[str]) -> None:
        super().__init__(logging.DEBUG)
        self.sink = sink

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.sink.append(self.format(record))
        except Exception:  # pragma: no cover - mirrors logging's own policy
            self.handleError(record)


@attrs.define
class LogCapture:
    """Rendered lines captured so far (JSON), and their parsed form."""

    lines: list[str] = attrs.field(factory=list)

    @property
    def records(self) -> list[dict[str, Any]]:
        """Each line parsed as JSON."""
        return [json.loads(line) for line in self.lines]

    def events(self) -> list[str]:
        """The ``event`` (message) of each line."""
        return [str(r.get("event")) for r in self.records]


@contextmanager
def capture_logs(level: str = "DEBUG") -> Iterator[LogCapture]:
    """Capture every log line (structlog and stdlib) rendered as JSON for the block.

    The previous logging configuration is restored afterwards.
    """
    capture = LogCapture()
    root = logging.getLogger()
    saved_level = root.level
    saved_nexa = [h for h in root.handlers if h.get_name() == HANDLER_NAME]
    saved_config = structlog.get_config()
    configure_logging(level=level, json_lines=True, handler=_ListHandler(capture.lines))
    try:
        yield capture
    finally:
        for h in list(root.handlers):
            if h.get_name() == HANDLER_NAME:
                root.removeHandler(h)
        for h in saved_nexa:
            root.addHandler(h)
        root.setLevel(saved_level)
        structlog.configure(**saved_config)


def log_problems(
    lines: Iterable[str], correlation_urn: Urn | str | None = None, *, secrets: Iterable[str] = ()
) -> list[str]:
    """What is wrong with ``lines`` (empty when clean): leaked data or a missing URN."""
    problems = []
    secret_list = [s for s in secrets if s]
    corr = str(correlation_urn) if correlation_urn is not None else None
    for n, line in enumerate(lines, 1):
        kinds = []
        if EMAIL_RE.search(line):
            kinds.append("e-mail")
        if PHONE_RE.search(line):
            kinds.append("phone")
        if find_card_numbers(line):
            kinds.append("card number")
        if JWT_RE.search(line):
            kinds.append("token")
        if any(s in line for s in secret_list):
            kinds.append("secret")
        if corr is not None and corr not in line:
            kinds.append(f"no {corr}")
        if kinds:
            problems.append(f"line {n}: {', '.join(kinds)}")
    return problems


def assert_clean_logs(
    lines: Iterable[str], correlation_urn: Urn | str | None = None, *, secrets: Iterable[str] = ()
) -> None:
    """Fail if any line leaks a secret, e-mail, phone, card number or token, or (when
    ``correlation_urn`` is given) lacks that URN. Lines are named by number only."""
    materialised = list(lines)
    assert materialised, "no log lines were captured"
    problems = log_problems(materialised, correlation_urn, secrets=secrets)
    assert not problems, "unclean log lines:\n" + "\n".join(problems)
