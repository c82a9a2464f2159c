"""``nexa worker`` — run the workflow engine's workers and the outbox relay.

Several ``nexa worker`` processes on one PostgreSQL engine database share the work; give
each a stable ``--executor-id`` so a restarted worker recovers its own runs, and use
``--recover <id>`` to adopt the runs of a worker that will not come back. Each worker also
runs the outbox relay; with a shared coordination store (Redis) one worker at a time
holds each consumer's lease and another takes over when it stops.
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
    relay: bool,
    relay_only: bool,
) -> dict[str, Any]:
    import socket

    from nexa_adapters.bootstrap import bootstrap
    from nexa_adapters.engine import QUEUE_NAME, DbosEngine, install_sagas
    from nexa_adapters.outbox import relay_runner
    from nexa_adapters.settings import Settings

    settings = Settings.load(**overrides)
    nexa = bootstrap(settings)
    engine = nexa.engine if not relay_only else None
    if engine is not None and not isinstance(engine, DbosEngine):
        fail(
            f"the {getattr(engine, 'name', 'configured')} engine has no workers; "
            "set NEXA_ENGINE_URL=dbos+sqlite:///… or dbos+postgresql://… "
            "(or pass --relay-only to run the outbox relay alone)",
            6,
        )
    if engine is None and not relay:
        fail("--relay-only and --no-relay leave nothing to run", 2)
    recovered: list[str] = []
    if engine is not None:
        if executor_id:
            engine.executor_id = executor_id
        install_sagas(nexa)
        await engine.launch()
        recovered = await engine.recover(recover) if recover else []
        name = engine.executor_id
        typer.echo(f"worker {name} ({engine.app_version}) serving queue {QUEUE_NAME}", err=True)
    else:
        name = executor_id or socket.gethostname()
    runner = relay_runner(nexa, owner=f"worker {name}") if relay else None
    if runner is not None:
        names = ", ".join(c.name for c in runner.consumers) or "none"
        typer.echo(f"worker {name} relaying the outbox to: {names}", err=True)
    stop = anyio.Event()
    try:
        with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
            async with anyio.create_task_group() as tg:

                async def stop_on_signal() -> None:
                    async for _ in signals:
                        stop.set()
                        tg.cancel_scope.cancel()
                        return

                tg.start_soon(stop_on_signal)
                if runner is not None:
                    tg.start_soon(lambda: runner.run(idle_s=min(poll_s, 0.5), stop=stop))
                idle = 0
                while True:
                    await anyio.sleep(poll_s)
                    if until_idle:
                        busy = engine is not None and await engine.pending() > 0
                        behind = runner is not None and not await runner.caught_up()
                        idle = 0 if busy or behind else idle + 1
                        if idle >= 2:
                            stop.set()
                            tg.cancel_scope.cancel()
                            break
    finally:
        if engine is not None:
            await engine.shutdown()
        await nexa.aclose()
    return {
        "executor": name,
        "recovered": recovered,
        "relayed": dict(runner.delivered) if runner is not None else {},
    }


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
    relay: Annotated[
        bool,
        typer.Option(
            "--relay/--no-relay",
            help="Also relay the outbox to its consumers (one worker at a time holds each "
            "consumer's lease).",
        ),
    ] = True,
    relay_only: Annotated[
        bool,
        typer.Option("--relay-only", help="Run the outbox relay alone (no saga workers)."),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON on exit.")] = False,
) -> None:
    """Run saga workers and the outbox relay until SIGINT/SIGTERM (or until idle).

    The relay hands every committed event, in order, to each outbox consumer (passenger
    snapshot refresh, metrics counters, outbound webhooks when installed); a stopped
    relay resumes from each consumer's saved position (`nexa outbox status`).
    """
    overrides = {
        "engine_url": engine_url,
        "store_url": store_url,
        "coordination_url": coordination_url,
    }

    @handle_errors
    def run() -> None:
        result = anyio.run(
            _serve,
            overrides,
            executor_id,
            list(recover or []),
            until_idle,
            poll_s,
            relay,
            relay_only,
        )
        emit(result, as_json=as_json, human=_stopped)

    run()


def _stopped(r: dict[str, Any]) -> str:
    relayed = ", ".join(f"{k} {v}" for k, v in r["relayed"].items())
    return f"worker {r['executor']} stopped" + (f" (relayed: {relayed})" if relayed else "")


def register(app: typer.Typer) -> None:
    """Attach ``nexa worker``."""
    app.command("worker")(worker)
