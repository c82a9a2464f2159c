"""The one saga interpreter every engine runs.

An engine supplies a :class:`StepRunner` — "run this callable as a step with this retry
policy" (checkpointed by a durable engine, plain retries in process) — and the
interpreter walks a :class:`SagaDefinition`:

* each step handler takes the saga state (JSON-compatible dict) and returns updates;
  the state it sees carries ``_attempt`` (1, 2, …) and ``_final_attempt`` (no retry is
  left), so a handler can record a soft failure on its last try instead of raising;
* a step whose error is permanent (``NexaError.retryable`` false) is not retried;
* a step that fails for good is followed, for ``fallbacks`` steps, by the next candidate
  (one attempt each); when nothing is left, completed steps are compensated in reverse
  order, each compensation a step of its own; a compensation that fails for good becomes
  a dead-letter write (a step too); then the ``on_failed`` handler (manual review) runs.
  The failed step's own compensations run too (first): compensations must tolerate a
  step that did only part of its work, or none.

Because every decision depends only on step results, a durable engine that replays
recorded step results reaches exactly the same point after a crash.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from contextlib import nullcontext
from typing import Any, Protocol

import attrs

from nexa_core.errors import (
    ConfigurationError,
    MalformedResponseError,
    NexaError,
    ProviderTimeoutError,
)
from nexa_core.saga.definition import OnFailure, SagaDefinition, StepDef
from nexa_core.saga.policy import DEFAULT_RETRY_POLICIES, RetryPolicies, RetryPolicy
from nexa_core.tracing import correlation_scope
from nexa_core.urn import Urn

__all__ = [
    "DEAD_LETTER_STEP",
    "Handler",
    "SagaOutcome",
    "SagaProgram",
    "SagaStatus",
    "StepFailed",
    "StepRunner",
    "interpret",
    "is_ambiguous",
    "is_retryable",
    "workflow_id",
]

_log = logging.getLogger("nexa.saga")

#: Handler name the interpreter calls for a compensation that failed for good.
DEAD_LETTER_STEP = "dead_letter"

State = dict[str, Any]
Handler = Callable[[Mapping[str, Any]], Awaitable[Mapping[str, Any] | None]]


def is_retryable(error: BaseException) -> bool:
    """Transient errors are retried; permanent ones (and non-Nexa bugs) are not."""
    return isinstance(error, NexaError) and error.retryable


def is_ambiguous(error: BaseException) -> bool:
    """Whether the partner may have acted although the call failed (timeout, garbled reply).

    A saga must reconcile such an attempt before trying another provider.
    """
    return isinstance(error, ProviderTimeoutError | MalformedResponseError) or not isinstance(
        error, NexaError
    )


def workflow_id(subject: str, saga_id: str) -> str:
    """The workflow id (and idempotency key) of ``saga_id`` for one subject URN."""
    return f"{subject}/{saga_id}"


class StepFailed(Exception):
    """What a runner raises when a step failed for good (permanent or retries exhausted)."""

    def __init__(
        self, step: str, error: str, code: str, attempts: int, ambiguous: bool = False
    ) -> None:
        super().__init__(step, error, code, attempts, ambiguous)
        self.step = step
        self.error = error
        self.code = code
        self.attempts = attempts
        self.ambiguous = ambiguous

    def __str__(self) -> str:
        return f"{self.step} failed after {self.attempts} attempt(s): {self.error}"


class StepRunner(Protocol):
    """Runs one step with retries; the engine-specific part."""

    async def run(self, name: str, fn: Callable[[], Awaitable[Any]], policy: RetryPolicy) -> Any:
        """Run ``fn`` (retrying retryable errors per ``policy``); StepFailed when it gives up."""
        ...


class SagaStatus:
    """Terminal outcomes of one saga run (plain strings, stored by engines)."""

    COMPLETED = "COMPLETED"
    COMPENSATED = "COMPENSATED"  # a step failed; compensations ran; on_failed handled it


@attrs.frozen
class SagaOutcome:
    """How a run ended, with its final state."""

    workflow_id: str
    saga: str
    status: str
    state: Mapping[str, Any]
    failed_step: str | None = None
    error: str | None = None
    dead_letters: tuple[str, ...] = ()

    @property
    def completed(self) -> bool:
        """Whether every step succeeded (non-critical failures aside)."""
        return self.status == SagaStatus.COMPLETED


@attrs.frozen
class SagaProgram:
    """A definition bound to handlers and retry policies: what an engine registers."""

    definition: SagaDefinition
    handlers: Mapping[str, Handler]
    retry: RetryPolicies = DEFAULT_RETRY_POLICIES
    #: airline URN → that tenant's policies (the saga state's ``airline`` picks them)
    tenant_retry: Mapping[str, RetryPolicies] = attrs.field(factory=dict)

    def policies(self, state: Mapping[str, Any]) -> RetryPolicies:
        """The retry policies for the tenant of ``state``."""
        return self.tenant_retry.get(str(state.get("airline")), self.retry)

    def __attrs_post_init__(self) -> None:
        needed = set(self.definition.handler_names())
        if any(
            s.on_failure is OnFailure.DEAD_LETTER or s.compensations for s in self.definition.steps
        ):
            needed.add(DEAD_LETTER_STEP)
        missing = needed - set(self.handlers)
        if missing:
            raise ConfigurationError(
                f"saga {self.definition.id}: no handler for {sorted(missing)}",
                saga=self.definition.id,
            )


def _merge(state: State, update: Mapping[str, Any] | None) -> None:
    if update:
        state.update(update)


async def _call(
    program: SagaProgram,
    runner: StepRunner,
    label: str,
    handler: str,
    state: State,
    policy: RetryPolicy,
) -> Mapping[str, Any] | None:
    fn = program.handlers[handler]
    snapshot = dict(state)
    corr = snapshot.get("correlation")
    correlation = Urn.parse(corr) if isinstance(corr, str) and corr else None

    attempts = 0

    async def once() -> Mapping[str, Any] | None:
        nonlocal attempts
        attempts += 1
        # a handler may degrade instead of failing on its last try (care steps raise a
        # review item rather than cancelling a booked hotel)
        snapshot["_attempt"] = attempts
        snapshot["_final_attempt"] = attempts >= policy.max_attempts
        with correlation_scope(correlation) if correlation is not None else nullcontext():
            try:
                result = await fn(snapshot)
            except NexaError as exc:
                _log.info(
                    "saga %s step %s of %s failed: %s (retryable=%s)",
                    program.definition.id, label, snapshot.get("sub_case"), exc.code, exc.retryable,
                )  # fmt: skip
                raise
            _log.info(
                "saga %s step %s of %s done", program.definition.id, label, snapshot.get("sub_case")
            )
        return dict(result) if result else None

    result: Mapping[str, Any] | None = await runner.run(label, once, policy)
    return result


async def _dead_letter(
    program: SagaProgram, runner: StepRunner, state: State, step: str, failure: StepFailed
) -> None:
    payload = dict(state)
    payload["_dead_letter"] = {"step": step, "error": failure.error, "code": failure.code}
    policy = program.policies(state).for_queue(program.definition.compensation_queue)
    await _call(program, runner, f"{DEAD_LETTER_STEP}:{step}", DEAD_LETTER_STEP, payload, policy)


async def _compensate(
    program: SagaProgram, runner: StepRunner, state: State, done: list[StepDef]
) -> list[str]:
    dead: list[str] = []
    for step in reversed(done):
        for comp in step.compensations:
            try:
                _merge(
                    state,
                    await _call(
                        program,
                        runner,
                        f"compensate:{comp}",
                        comp,
                        state,
                        program.policies(state).for_queue(step.queue),
                    ),
                )
            except StepFailed as failure:
                await _dead_letter(program, runner, state, comp, failure)
                dead.append(comp)
    return dead


async def _run_step(
    program: SagaProgram, runner: StepRunner, state: State, step: StepDef
) -> StepFailed | None:
    """Run a step (and its fallbacks); None on success, the last failure otherwise."""
    policy = program.policies(state).for_queue(step.queue)
    candidates = state.get("candidates")
    extra = min(step.fallbacks, max(0, len(candidates) - 1)) if isinstance(candidates, list) else 0
    failure: StepFailed | None = None
    for index in range(extra + 1):
        if step.fallbacks:
            state["candidate"] = index
        try:
            label = step.name if index == 0 else f"{step.name}#{index}"
            _merge(
                state,
                await _call(
                    program,
                    runner,
                    label,
                    step.name,
                    state,
                    policy if index == 0 else policy.single_attempt(),
                ),
            )
            return None
        except StepFailed as exc:
            failure = exc
            state.setdefault("failures", []).append(
                {
                    "step": step.name,
                    "candidate": index,
                    "error": exc.error,
                    "code": exc.code,
                    "ambiguous": exc.ambiguous,
                }
            )
    return failure


async def interpret(
    program: SagaProgram, runner: StepRunner, wf_id: str, initial: Mapping[str, Any]
) -> SagaOutcome:
    """Run ``program`` to its end through ``runner``."""
    state: State = dict(initial)
    state["workflow_id"] = wf_id
    done: list[StepDef] = []
    dead: list[str] = []
    for step in program.definition.steps:
        failure = await _run_step(program, runner, state, step)
        if failure is None:
            done.append(step)
            continue
        if step.on_failure is OnFailure.CONTINUE:
            continue
        if step.on_failure is OnFailure.DEAD_LETTER:
            await _dead_letter(program, runner, state, step.name, failure)
            dead.append(step.name)
            state["dead_letters"] = list(dead)
            continue
        # the failed step's own compensations run first: it may have done part of its work
        dead.extend(await _compensate(program, runner, state, [*done, step]))
        state["dead_letters"] = list(dead)
        state["failed_step"] = step.name
        state["error"] = failure.error
        state["error_code"] = failure.code
        if program.definition.on_failed:
            _merge(
                state,
                await _call(
                    program,
                    runner,
                    program.definition.on_failed,
                    program.definition.on_failed,
                    state,
                    program.policies(state).for_queue(program.definition.compensation_queue),
                ),
            )
        return SagaOutcome(
            wf_id,
            program.definition.id,
            SagaStatus.COMPENSATED,
            state,
            failed_step=step.name,
            error=failure.error,
            dead_letters=tuple(dead),
        )
    return SagaOutcome(
        wf_id, program.definition.id, SagaStatus.COMPLETED, state, dead_letters=tuple(dead)
    )
