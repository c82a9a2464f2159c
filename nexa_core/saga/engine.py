"""The engine port: what the application needs from a workflow engine.

Engines register :class:`SagaProgram`s (before launch), start runs by workflow id (a
second start of the same id is a no-op that returns the first run's handle/result), and
report outcomes. ``nexa_core.testing.saga_contract`` holds the suite every engine passes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

from nexa_core.saga.interpreter import SagaOutcome, SagaProgram

__all__ = ["SagaEngine"]


@runtime_checkable
class SagaEngine(Protocol):
    """Runs saga programs; durable engines survive crashes of the process running them."""

    name: str

    def register(self, program: SagaProgram) -> None:
        """Make a program runnable (call before :meth:`launch`); a repeat replaces it."""
        ...

    async def launch(self) -> None:
        """Start the engine (durable engines recover pending runs here)."""
        ...

    async def start(self, saga_id: str, subject: str, initial: Mapping[str, Any]) -> str:
        """Start ``saga_id`` for ``subject`` (a URN); returns the workflow id (idempotent)."""
        ...

    async def result(self, wf_id: str, *, wait_s: float | None = None) -> SagaOutcome:
        """Wait for a run to finish and return its outcome."""
        ...

    async def run(self, saga_id: str, subject: str, initial: Mapping[str, Any]) -> SagaOutcome:
        """Start (idempotently) and wait."""
        ...

    async def shutdown(self) -> None:
        """Stop the engine (in-flight durable runs resume on the next launch)."""
        ...
