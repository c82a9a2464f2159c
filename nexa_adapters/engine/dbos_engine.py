"""The durable engine on DBOS Transact (``dbos+sqlite:///./nexa-engine.db``, ``dbos+postgresql://…``).

One generic registered workflow (``nexa.saga``) interprets any registered
:class:`~nexa_core.saga.SagaProgram` step by step: every step, compensation and the
manual-review write is a DBOS step (``DBOS.run_step_async``) with the queue's retry policy
(max attempts, interval, backoff rate) and ``should_retry`` = ``NexaError.retryable``, so
a permanent error skips the retries. The workflow id is ``<subject URN>/<saga>@<version>``:
starting it again returns the recorded run (the partner is called once).

DBOS is a process-wide singleton: the composition root owns it through this engine (one
engine per process), tests call :meth:`DbosEngine.destroy` between fixtures. Every
worker has a stable executor id and an explicit application version; a restarted worker
recovers its own pending runs on launch, and :meth:`DbosEngine.recover` adopts the runs of
a dead executor (``DBOS._recover_pending_workflows`` — non-public, hence ``dbos<3.5``).
"""

from __future__ import annotations

import os
import socket
from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode

import anyio
import anyio.to_thread
import attrs

from nexa_core.errors import ConfigurationError, NexaError
from nexa_core.saga import (
    DEFINITIONS,
    RetryPolicy,
    SagaOutcome,
    SagaProgram,
    StepFailed,
    interpret,
    is_ambiguous,
    is_retryable,
    workflow_id,
)

__all__ = ["QUEUE_NAME", "WORKFLOW_NAME", "DbosEngine", "DbosRunner", "parse_engine_url"]

WORKFLOW_NAME = "nexa.saga"
QUEUE_NAME = "nexa-sagas"

_state: dict[str, Any] = {"engine": None, "workflow": None, "registry": None, "queue": None}


def _code(error: BaseException) -> str:
    return error.code if isinstance(error, NexaError) else type(error).__name__


class DbosRunner:
    """Runs each step as a checkpointed DBOS step with the queue's retry policy."""

    def __init__(self, time_scale: float = 1.0) -> None:
        self.time_scale = time_scale

    async def run(self, name: str, fn: Callable[[], Awaitable[Any]], policy: RetryPolicy) -> Any:
        from dbos import DBOS
        from dbos._error import DBOSMaxStepRetriesExceeded

        options: dict[str, Any] = {
            "name": name,
            "retries_allowed": policy.retries > 0,
            "max_attempts": policy.max_attempts,
            "interval_seconds": max(policy.interval_s * self.time_scale, 0.001),
            "backoff_rate": policy.backoff_rate,
            "should_retry": is_retryable,
        }
        try:
            return await DBOS.run_step_async(options, fn)  # type: ignore[arg-type]
        except DBOSMaxStepRetriesExceeded as exc:
            last: BaseException = exc.errors[-1] if exc.errors else exc
            ambiguous = any(is_ambiguous(e) for e in exc.errors)
            raise StepFailed(name, str(last), _code(last), policy.max_attempts, ambiguous) from exc
        except StepFailed:
            raise
        except Exception as exc:
            raise StepFailed(name, str(exc), _code(exc), 1, is_ambiguous(exc)) from exc


async def _saga_workflow(saga_id: str, wf_id: str, initial: dict[str, Any]) -> dict[str, Any]:
    engine: DbosEngine | None = _state["engine"]
    if engine is None:
        raise ConfigurationError("no DbosEngine is active in this process")
    program = engine.programs.get(saga_id)
    if program is None:
        raise ConfigurationError(f"saga {saga_id!r} is not registered", saga=saga_id)
    outcome = await interpret(program, DbosRunner(engine.time_scale), wf_id, initial)
    return {
        "workflow_id": outcome.workflow_id,
        "saga": outcome.saga,
        "status": outcome.status,
        "state": dict(outcome.state),
        "failed_step": outcome.failed_step,
        "error": outcome.error,
        "dead_letters": list(outcome.dead_letters),
    }


def parse_engine_url(url: str) -> tuple[str, dict[str, str]]:
    """``dbos+<db url>[?executor=…&version=…&concurrency=…&client=1]`` → (system database URL, options)."""
    if not url.startswith("dbos+"):
        raise ConfigurationError(f"not a DBOS engine URL: {url!r}", url=url)
    db, _, raw_query = url[len("dbos+") :].partition("?")
    query = dict(parse_qsl(raw_query))
    keys = ("executor", "version", "concurrency", "client")
    options = {k: query.pop(k) for k in keys if k in query}
    if query:
        db = f"{db}?{urlencode(query)}"
    if db.startswith("postgresql+psycopg://"):
        db = "postgresql://" + db[len("postgresql+psycopg://") :]
    return db, options


def default_version() -> str:
    """Application version: the registered saga definitions (old versions drain first)."""
    return "nexa-" + "+".join(sorted(DEFINITIONS))


@attrs.define
class DbosEngine:
    """The DBOS Transact engine. Build with :meth:`from_url`; one per process."""

    system_database_url: str
    executor_id: str = attrs.field(
        factory=lambda: os.environ.get("NEXA_EXECUTOR_ID") or socket.gethostname()
    )
    app_version: str = attrs.field(factory=default_version)
    app_name: str = "nexa"
    worker_concurrency: int = 8
    enqueue: bool = True
    time_scale: float = 1.0
    client_only: bool = False  # enqueue and read results; never run workflows here
    programs: dict[str, SagaProgram] = attrs.field(factory=dict)
    name: str = "dbos"
    _launched: bool = False
    _client: Any = None

    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> DbosEngine:
        """An engine for ``dbos+sqlite:///…`` or ``dbos+postgresql://…``."""
        db, options = parse_engine_url(url)
        if "executor" in options:
            kwargs.setdefault("executor_id", options["executor"])
        if "version" in options:
            kwargs.setdefault("app_version", options["version"])
        if "concurrency" in options:
            kwargs.setdefault("worker_concurrency", int(options["concurrency"]))
        if "client" in options:
            kwargs.setdefault("client_only", options["client"] in ("1", "true", "yes"))
        return cls(db, **kwargs)

    def register(self, program: SagaProgram) -> None:
        self.programs[program.definition.id] = program

    def _register_workflow(self) -> None:
        from dbos import DBOS
        from dbos._dbos import _get_or_create_dbos_registry

        registry = _get_or_create_dbos_registry()
        if _state["registry"] is not registry:
            _state["workflow"] = DBOS.workflow(name=WORKFLOW_NAME)(_saga_workflow)
            _state["registry"] = registry

    def _launch_sync(self) -> None:
        from dbos import DBOS

        current = _state["engine"]
        if current is not None and current is not self:
            raise ConfigurationError("another DbosEngine owns DBOS in this process")
        _state["engine"] = self
        self._register_workflow()
        DBOS(
            config={
                "name": self.app_name,
                "system_database_url": self.system_database_url,
                "executor_id": self.executor_id,
                "application_version": self.app_version,
                "run_admin_server": False,
                "log_level": os.environ.get("NEXA_DBOS_LOG_LEVEL", "ERROR"),
            }  # type: ignore[typeddict-unknown-key]
        )
        DBOS.launch()
        _state["queue"] = DBOS.register_queue(
            QUEUE_NAME,
            worker_concurrency=self.worker_concurrency,
            polling_interval_sec=0.2,
            on_conflict="always_update",
        )
        self._launched = True

    async def launch(self) -> None:
        """Launch DBOS here (a worker), or connect a client (``client_only``: API processes).

        A client needs the engine schema a worker created first.
        """
        if self._launched:
            return
        if self.client_only:
            from dbos import DBOSClient

            self._client = await anyio.to_thread.run_sync(
                lambda: DBOSClient(
                    system_database_url=self.system_database_url, application_name=self.app_name
                )
            )
            self._launched = True
            return
        await anyio.to_thread.run_sync(self._launch_sync)

    async def start(self, saga_id: str, subject: str, initial: Mapping[str, Any]) -> str:
        from dbos import DBOS, SetWorkflowID

        if saga_id not in self.programs and not self.client_only:
            raise ConfigurationError(f"saga {saga_id!r} is not registered", saga=saga_id)
        if not self._launched:
            await self.launch()
        wf_id = workflow_id(subject, saga_id)
        if self._client is not None:
            await self._client.enqueue_async(
                {
                    "queue_name": QUEUE_NAME,
                    "workflow_name": WORKFLOW_NAME,
                    "workflow_id": wf_id,
                    "app_version": self.app_version,
                },
                saga_id,
                wf_id,
                dict(initial),
            )
            return wf_id
        with SetWorkflowID(wf_id):
            if self.enqueue:
                await _state["queue"].enqueue_async(
                    _state["workflow"], saga_id, wf_id, dict(initial)
                )
            else:
                await DBOS.start_workflow_async(_state["workflow"], saga_id, wf_id, dict(initial))
        return wf_id

    async def result(self, wf_id: str, *, wait_s: float | None = None) -> SagaOutcome:
        from dbos import DBOS

        if self._client is not None:
            handle = await self._client.retrieve_workflow_async(wf_id)
        else:
            handle = await DBOS.retrieve_workflow_async(wf_id)
        with anyio.fail_after(wait_s):
            data = await handle.get_result()
        return SagaOutcome(
            data["workflow_id"],
            data["saga"],
            data["status"],
            data["state"],
            failed_step=data["failed_step"],
            error=data["error"],
            dead_letters=tuple(data["dead_letters"]),
        )

    async def run(self, saga_id: str, subject: str, initial: Mapping[str, Any]) -> SagaOutcome:
        return await self.result(await self.start(saga_id, subject, initial))

    async def pending(self) -> int:
        """Runs of the saga workflow still enqueued or running (any executor)."""
        from dbos import DBOS

        rows = await DBOS.list_workflows_async(
            status=["ENQUEUED", "PENDING"], name=WORKFLOW_NAME, load_input=False, load_output=False
        )
        return len(rows)

    async def recover(self, executor_ids: list[str]) -> list[str]:
        """Adopt the pending runs of (dead) executors; returns their workflow ids."""
        from dbos import DBOS

        handles = await anyio.to_thread.run_sync(
            lambda: DBOS._recover_pending_workflows(executor_ids)
        )
        return [h.get_workflow_id() for h in handles]

    async def shutdown(self) -> None:
        if self._client is not None:
            client, self._client = self._client, None
            await anyio.to_thread.run_sync(client.destroy)
            self._launched = False
            return
        await anyio.to_thread.run_sync(self.destroy)

    def destroy(self) -> None:
        """Tear the process's DBOS instance down (tests, process exit)."""
        from dbos import DBOS

        DBOS.destroy(destroy_registry=True)
        _state.update(engine=None, workflow=None, registry=None, queue=None)
        self._launched = False
