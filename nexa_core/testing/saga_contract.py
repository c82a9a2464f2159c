"""Contract suite every saga engine passes (in-process, DBOS, a vendor's own).

Subclass :class:`SagaEngineContract` and provide ``make_engine``: an async factory that
takes programs, registers them, launches and returns the engine (tear it down after)::

    class TestMyEngine(SagaEngineContract):
        @pytest.fixture
        async def make_engine(self, tmp_path):
            engines = []
            async def factory(programs):
                engine = MyEngine(...)
                for p in programs:
                    engine.register(p)
                await engine.launch()
                engines.append(engine)
                return engine
            yield factory
            for e in engines:
                await e.shutdown()
"""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import pytest

from nexa_core.errors import ProviderRejectedError, ProviderUnavailableError
from nexa_core.saga import (
    DEAD_LETTER_STEP,
    DEFAULT_RETRY_POLICIES,
    OnFailure,
    Queue,
    SagaDefinition,
    SagaEngine,
    SagaProgram,
    SagaStatus,
    StepDef,
)

__all__ = ["SagaEngineContract", "Script"]

_subjects = itertools.count(1)
FAST = DEFAULT_RETRY_POLICIES.scaled(0.001)
MakeEngine = Callable[[list[SagaProgram]], Awaitable[SagaEngine]]


class Script:
    """Handlers that record calls and fail as scripted: ``fail[name] = [exc, exc, None…]``."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.fail: dict[str, list[BaseException | None]] = {}

    def handler(self, name: str) -> Callable[[Mapping[str, Any]], Awaitable[Mapping[str, Any]]]:
        async def run(state: Mapping[str, Any]) -> Mapping[str, Any]:
            label = (
                name if "candidate" not in state or name != "book" else f"book#{state['candidate']}"
            )
            self.calls.append(label)
            script = self.fail.get(label) or self.fail.get(name)
            if script:
                error = script.pop(0)
                if error is not None:
                    raise error
            return {f"{name}_done": True}

        return run

    def program(self, definition: SagaDefinition) -> SagaProgram:
        names = set(definition.handler_names()) | {DEAD_LETTER_STEP}
        return SagaProgram(definition, {n: self.handler(n) for n in names}, FAST)


def _subject() -> str:
    return f"urn:sub-case:sc-contract-{next(_subjects)}"


TOY = SagaDefinition(
    "toy",
    1,
    (
        StepDef("hold", Queue.SYSTEM, compensations=("release",)),
        StepDef("book", Queue.BOOKING, compensations=("cancel",), fallbacks=3),
        StepDef("card", Queue.PAYMENT, compensations=("cancel_card",)),
        StepDef("notify", Queue.NOTIFICATION, on_failure=OnFailure.CONTINUE),
        StepDef("done", Queue.SYSTEM),
    ),
    on_failed="review",
)
ROLLBACK = SagaDefinition(
    "toy-rollback",
    1,
    (
        StepDef("undo_a", Queue.SYSTEM, on_failure=OnFailure.DEAD_LETTER),
        StepDef("undo_b", Queue.SYSTEM, on_failure=OnFailure.DEAD_LETTER),
    ),
)


def _transient() -> ProviderUnavailableError:
    return ProviderUnavailableError("503 (scripted)")


def _permanent() -> ProviderRejectedError:
    return ProviderRejectedError("sold out (scripted)")


class SagaEngineContract:
    """Behaviours every engine shows for the same saga definition."""

    @pytest.fixture
    async def make_engine(self) -> Any:  # pragma: no cover - provided by subclasses
        raise NotImplementedError

    async def _run(
        self, make_engine: MakeEngine, script: Script, initial: Mapping[str, Any] | None = None
    ) -> Any:
        engine = await make_engine([script.program(TOY), script.program(ROLLBACK)])
        init = {"candidates": ["h1", "h2", "h3", "h4", "h5"], **(initial or {})}
        return await engine.run("toy@1", _subject(), init)

    @pytest.mark.anyio
    async def test_steps_run_in_order_and_their_results_flow_into_the_state(
        self, make_engine: MakeEngine
    ) -> None:
        script = Script()
        outcome = await self._run(make_engine, script)
        assert outcome.status == SagaStatus.COMPLETED
        assert script.calls == ["hold", "book#0", "card", "notify", "done"]
        assert outcome.state["card_done"] is True and outcome.state["candidate"] == 0

    @pytest.mark.anyio
    async def test_transient_errors_are_retried_until_the_step_succeeds(
        self, make_engine: MakeEngine
    ) -> None:
        script = Script()
        script.fail["card"] = [_transient(), _transient(), None]
        outcome = await self._run(make_engine, script)
        assert outcome.status == SagaStatus.COMPLETED
        assert script.calls.count("card") == 3

    @pytest.mark.anyio
    async def test_a_permanent_error_is_not_retried_and_compensates_in_reverse(
        self, make_engine: MakeEngine
    ) -> None:
        script = Script()
        script.fail["card"] = [_permanent()]
        outcome = await self._run(make_engine, script)
        assert outcome.status == SagaStatus.COMPENSATED and outcome.failed_step == "card"
        assert script.calls == [
            "hold",
            "book#0",
            "card",
            "cancel_card",
            "cancel",
            "release",
            "review",
        ]
        assert "sold out" in (outcome.error or "")

    @pytest.mark.anyio
    async def test_exhausted_retries_follow_the_queue_policy_then_compensate(
        self, make_engine: MakeEngine
    ) -> None:
        script = Script()
        script.fail["card"] = [_transient() for _ in range(10)]
        outcome = await self._run(make_engine, script)
        assert outcome.status == SagaStatus.COMPENSATED
        assert script.calls.count("card") == FAST.for_queue(Queue.PAYMENT).max_attempts
        assert script.calls[-4:] == ["cancel_card", "cancel", "release", "review"]

    @pytest.mark.anyio
    async def test_fallback_candidates_get_one_attempt_each_after_the_primary(
        self, make_engine: MakeEngine
    ) -> None:
        script = Script()
        script.fail["book#0"] = [_transient() for _ in range(10)]
        script.fail["book#1"] = [_transient()]
        outcome = await self._run(make_engine, script)
        assert outcome.status == SagaStatus.COMPLETED
        booking = FAST.for_queue(Queue.BOOKING).max_attempts
        assert script.calls.count("book#0") == booking
        assert script.calls.count("book#1") == 1 and script.calls.count("book#2") == 1
        assert outcome.state["candidate"] == 2
        assert [f["candidate"] for f in outcome.state["failures"]] == [0, 1]

    @pytest.mark.anyio
    async def test_at_most_three_fallbacks_are_tried(self, make_engine: MakeEngine) -> None:
        script = Script()
        script.fail["book"] = [_permanent() for _ in range(10)]
        outcome = await self._run(make_engine, script)
        assert outcome.status == SagaStatus.COMPENSATED and outcome.failed_step == "book"
        assert [c for c in script.calls if c.startswith("book")] == [
            "book#0",
            "book#1",
            "book#2",
            "book#3",
        ]
        assert script.calls[-3:] == ["cancel", "release", "review"]

    @pytest.mark.anyio
    async def test_a_compensation_failing_for_good_is_dead_lettered_and_the_rest_still_run(
        self, make_engine: MakeEngine
    ) -> None:
        script = Script()
        script.fail["card"] = [_permanent()]
        script.fail["cancel"] = [_permanent()]
        outcome = await self._run(make_engine, script)
        assert outcome.dead_letters == ("cancel",)
        assert script.calls[-4:] == ["cancel", DEAD_LETTER_STEP, "release", "review"]

    @pytest.mark.anyio
    async def test_a_continue_step_failure_does_not_stop_the_saga(
        self, make_engine: MakeEngine
    ) -> None:
        script = Script()
        script.fail["notify"] = [_permanent()]
        outcome = await self._run(make_engine, script)
        assert outcome.status == SagaStatus.COMPLETED
        assert script.calls[-1] == "done"

    @pytest.mark.anyio
    async def test_dead_letter_steps_record_and_move_on(self, make_engine: MakeEngine) -> None:
        script = Script()
        script.fail["undo_a"] = [_permanent()]
        engine = await make_engine([script.program(TOY), script.program(ROLLBACK)])
        outcome = await engine.run("toy-rollback@1", _subject(), {})
        assert outcome.status == SagaStatus.COMPLETED
        assert outcome.dead_letters == ("undo_a",)
        assert script.calls == ["undo_a", DEAD_LETTER_STEP, "undo_b"]

    @pytest.mark.anyio
    async def test_starting_the_same_workflow_id_twice_runs_it_once(
        self, make_engine: MakeEngine
    ) -> None:
        script = Script()
        engine = await make_engine([script.program(TOY)])
        subject = _subject()
        init = {"candidates": ["h1"]}
        first = await engine.run("toy@1", subject, init)
        second = await engine.run("toy@1", subject, init)
        assert first == second
        assert script.calls.count("hold") == 1
