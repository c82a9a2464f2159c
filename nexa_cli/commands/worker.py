"""``nexa worker`` — run the workflow engine's workers against the configured store.

Several ``nexa worker`` processes on one PostgreSQL engine database share the work; give
each a stable ``--executor-id`` so a restarted worker recovers its own runs, and use
``--recover <id>`` to adopt the runs of a worker that will not come back.
"""

from __future__ import annotations

import signal
from typing import Annotated, Any

import anyio
import typer

from nexa_cli._common import emit, fail, handle_errors


async def _serve(
    overrides: dict[str, Any],
    executor_id: str | None,
    recover: list[str],
    until_idle: bool,
    poll_s: float,
) -> dict[str, Any]:
    from nexa_adapters.bootstrap import bootstrap
    from nexa_adapters.engine import QUEUE_NAME, DbosEngine, install_sagas
    from nexa_adapters.settings import Settings

    settings = Settings.load(**overrides)
    nexa = bootstrap(settings)
    engine = nexa.engine
    if not isinstance(engine, DbosEngine):
        fail(
            f"the {getattr(engine, 'name', 'configured')} engine has no workers; "
            "set NEXA_ENGINE_URL=dbos+sqlite:///… or dbos+postgresql://…",
            6,
        )
    if executor_id:
        engine.executor_id = executor_id
    install_sagas(nexa)
    await engine.launch()
    recovered = await engine.recover(recover) if recover else []
    typer.echo(
        f"worker {engine.executor_id} ({engine.app_version}) serving queue {QUEUE_NAME}",
        err=True,
    )
    try:
        with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
            async with anyio.create_task_group() as tg:

                async def stop_on_signal() -> None:
                    async for _ in signals:
                        tg.cancel_scope.cancel()
                        return

                tg.start_soon(stop_on_signal)
                idle = 0
                while True:
                    await anyio.sleep(poll_s)
                    if until_idle:
                        idle = idle + 1 if await engine.pending() == 0 else 0
                        if idle >= 2:
                            tg.cancel_scope.cancel()
                            break
    finally:
        await engine.shutdown()
        await nexa.aclose()
    return {"executor": engine.executor_id, "recovered": recovered}


def worker(
    engine_url: Annotated[
        str | None, typer.Option("--engine-url", help="Overrides NEXA_ENGINE_URL.")
    ] = None,
    store_url: Annotated[
        str | None, typer.Option("--store-url", help="Overrides NEXA_STORE_URL.")
    ] = None,
    coordination_url: Annotated[
        str | None, typer.Option("--coordination-url", help="Overrides NEXA_COORDINATION_URL.")
    ] = None,
    executor_id: Annotated[
        str | None,
        typer.Option("--executor-id", help="Stable id of this worker (default: host name)."),
    ] = None,
    recover: Annotated[
        list[str] | None,
        typer.Option("--recover", help="Adopt the pending runs of this (dead) executor."),
    ] = None,
    until_idle: Annotated[
        bool, typer.Option("--until-idle", help="Exit once nothing is enqueued or running.")
    ] = False,
    poll_s: Annotated[float, typer.Option("--poll", help="Idle check interval (s).")] = 1.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON on exit.")] = False,
) -> None:
    """Run saga workers until SIGINT/SIGTERM (or until idle)."""
    overrides = {
        "engine_url": engine_url,
        "store_url": store_url,
        "coordination_url": coordination_url,
    }

    @handle_errors
    def run() -> None:
        result = anyio.run(_serve, overrides, executor_id, list(recover or []), until_idle, poll_s)
        emit(result, as_json=as_json, human=lambda r: f"worker {r['executor']} stopped")

    run()


def register(app: typer.Typer) -> None:
    """Attach ``nexa worker``."""
    app.command("worker")(worker)
