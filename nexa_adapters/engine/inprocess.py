"""The in-process, non-durable engine (``inprocess://``): unit tests and the memory setup.

It runs the same interpreter as the durable engine; retries sleep with anyio (intervals
multiplied by ``time_scale`` so tests do not wait for real backoffs). Runs are tasks of
this process: a crash loses them — use the DBOS engine when that matters.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import anyio

from nexa_core.errors import ConfigurationError, NexaError, NotFoundError
from nexa_core.saga import (
    RetryPolicy,
    SagaOutcome,
    SagaProgram,
    StepFailed,
    interpret,
    is_ambiguous,
    is_retryable,
    workflow_id,
)

__all__ = ["InProcessEngine", "InProcessRunner"]


def _code(error: BaseException) -> str:
    return error.code if isinstance(error, NexaError) else type(error).__name__


class InProcessRunner:
    """Retries with anyio sleeps; records every attempt in ``attempts`` (step → count)."""

    def __init__(self, time_scale: float = 1.0) -> None:
        self.time_scale = time_scale
        self.attempts: dict[str, int] = {}

    async def run(self, name: str, fn: Callable[[], Awaitable[Any]], policy: RetryPolicy) -> Any:
        delays = policy.delays()
        last: BaseException | None = None
        ambiguous = False
        for attempt in range(policy.max_attempts):
            self.attempts[name] = self.attempts.get(name, 0) + 1
            try:
                return await fn()
            except Exception as exc:
                last = exc
                ambiguous = ambiguous or is_ambiguous(exc)
                if not is_retryable(exc):
                    raise StepFailed(name, str(exc), _code(exc), attempt + 1, ambiguous) from exc
                if attempt < len(delays):
                    await anyio.sleep(delays[attempt] * self.time_scale)
        assert last is not None
        raise StepFailed(name, str(last), _code(last), policy.max_attempts, ambiguous) from last


class InProcessEngine:
    """Runs programs as tasks of the current event loop; starts are idempotent by id."""

    name = "inprocess"

    def __init__(self, *, time_scale: float = 1.0) -> None:
        self.time_scale = time_scale
        self.programs: dict[str, SagaProgram] = {}
        self._results: dict[str, SagaOutcome] = {}
        self._done: dict[str, anyio.Event] = {}
        self._errors: dict[str, BaseException] = {}
        self.runners: dict[str, InProcessRunner] = {}
        self._launched = False

    def register(self, program: SagaProgram) -> None:
        self.programs[program.definition.id] = program

    async def launch(self) -> None:
        self._launched = True

    async def _execute(self, program: SagaProgram, wf_id: str, initial: Mapping[str, Any]) -> None:
        runner = InProcessRunner(self.time_scale)
        self.runners[wf_id] = runner
        try:
            self._results[wf_id] = await interpret(program, runner, wf_id, initial)
        except BaseException as exc:  # a bug in a failure handler: keep it for result()
            self._errors[wf_id] = exc
        finally:
            self._done[wf_id].set()

    async def start(self, saga_id: str, subject: str, initial: Mapping[str, Any]) -> str:
        program = self.programs.get(saga_id)
        if program is None:
            raise ConfigurationError(f"saga {saga_id!r} is not registered", saga=saga_id)
        wf_id = workflow_id(subject, saga_id)
        if wf_id in self._done:
            return wf_id
        self._done[wf_id] = anyio.Event()
        await self._execute(program, wf_id, dict(initial))
        return wf_id

    async def result(self, wf_id: str, *, wait_s: float | None = None) -> SagaOutcome:
        done = self._done.get(wf_id)
        if done is None:
            raise NotFoundError(f"no workflow {wf_id}", workflow=wf_id)
        with anyio.fail_after(wait_s):
            await done.wait()
        if wf_id in self._errors:
            raise self._errors[wf_id]
        return self._results[wf_id]

    async def run(self, saga_id: str, subject: str, initial: Mapping[str, Any]) -> SagaOutcome:
        return await self.result(await self.start(saga_id, subject, initial))

    async def shutdown(self) -> None:
        self._launched = False
