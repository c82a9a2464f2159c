"""``nexa outbox status`` — where each outbox consumer stands (position, head, lag)."""

from __future__ import annotations

from typing import Annotated, Any

import anyio
import typer

from nexa_cli._common import emit, handle_errors
from nexa_cli._operator import JsonOption, table
from nexa_cli.commands.case import ConfigOption, StoreUrlOption

outbox_app = typer.Typer(help="The outbox relay: consumer positions and lag.", no_args_is_help=True)


def _human(d: dict[str, Any]) -> str:
    rows = [
        {
            **r,
            "oldest_pending": r["oldest_pending_at"] or "-",
            "lag": r["lag"],
        }
        for r in d["consumers"]
    ]
    head = f"outbox head {d['head']}"
    body = table(
        rows, ("consumer", "position", "lag", "oldest_pending"), "no outbox consumer registered"
    )
    return f"{head}\n{body}"


@outbox_app.command("status")
@handle_errors
def status(
    consumer: Annotated[
        list[str] | None,
        typer.Option("--consumer", help="Only this consumer (repeatable; default: every one)."),
    ] = None,
    store_url: StoreUrlOption = None,
    config: ConfigOption = None,
    fail_on_lag: Annotated[
        int | None,
        typer.Option("--fail-on-lag", min=0, help="Exit 1 when a consumer is more records behind."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Each consumer's saved position, the outbox head, the lag between them and when the
    oldest record it has not handled yet was committed (`nexa worker` relays)."""
    from pathlib import Path

    from nexa_adapters.bootstrap import bootstrap
    from nexa_adapters.outbox import consumer_names
    from nexa_adapters.settings import Settings
    from nexa_core.errors import InvalidInputError
    from nexa_core.relay import outbox_status

    if config is not None and not Path(config).is_file():
        raise InvalidInputError(f"settings file {config} does not exist", path=config)
    settings = Settings.load(config, store_url=store_url)
    nexa = bootstrap(settings, optional=("coordination", "engine", "snapshots"))

    async def main() -> dict[str, Any]:
        try:
            names = consumer_names(nexa)
            if consumer:
                unknown = sorted(set(consumer) - set(names))
                if unknown:
                    raise InvalidInputError(
                        f"no outbox consumer named {', '.join(unknown)} (have {', '.join(names)})",
                        field="consumer",
                    )
                names = [n for n in names if n in set(consumer)]
            rows = await outbox_status(nexa.store.outbox, names)
            head = await nexa.store.outbox.head()
        finally:
            await nexa.aclose()
        return {
            "head": head,
            "consumers": [
                {
                    "consumer": r.consumer,
                    "position": r.position,
                    "lag": r.lag,
                    "oldest_pending_at": (
                        r.oldest_pending_at.isoformat() if r.oldest_pending_at else None
                    ),
                }
                for r in rows
            ],
        }

    data = anyio.run(main)
    emit(data, as_json=as_json, human=_human)
    if fail_on_lag is not None and any(r["lag"] > fail_on_lag for r in data["consumers"]):
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Attach ``nexa outbox``."""
    app.add_typer(outbox_app, name="outbox")
