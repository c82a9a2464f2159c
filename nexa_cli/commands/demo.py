"""``nexa demo`` — a simulated hub closure handled end to end on the embedded default."""

from __future__ import annotations

import contextlib
import json
import signal
from pathlib import Path
from typing import Annotated, Any

import anyio
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from nexa_adapters.demo import DemoOptions, run_demo, run_worker
from nexa_cli._common import handle_errors


class _RichProgress:
    def __init__(self, progress: Progress) -> None:
        self._p = progress
        self._tasks: dict[str, Any] = {}

    def start(self, stage: str, total: int | None) -> None:
        self._tasks[stage] = self._p.add_task(stage, total=total)

    def advance(self, stage: str, n: int = 1) -> None:
        self._p.advance(self._tasks[stage], n)

    def finish(self, stage: str, note: str = "") -> None:
        task = self._tasks[stage]
        total = self._p.tasks[task].total
        self._p.update(
            task,
            total=total or 1,
            completed=total or 1,
            description=f"{stage}: {note}" if note else stage,
        )


def _tables(summary: dict[str, Any]) -> list[Table]:
    head = Table(title=f"Case {summary['case']} — {summary['status']}")
    head.add_column("metric")
    head.add_column("value", justify="right")
    t = summary["totals"]
    for key in ("passengers", "accommodated", "not_accommodated", "groups", "rooms"):
        head.add_row(key.replace("_", " "), str(t[key]))
    head.add_row("hotels used", str(t["hotels_used"]))
    for cur, amount in t["cost"].items():
        head.add_row(f"booked cost ({cur})", amount)
    for cur, amount in t.get("planned_cost", {}).items():
        head.add_row(f"planned room cost ({cur}, plan)", amount)
    head.add_row("savings vs market (sum of waves)", str(t.get("savings_vs_market", "unknown")))
    p = summary["partner"]
    head.add_row("partner bookings (live)", str(p["live_bookings"]))
    head.add_row("duplicate bookings", str(p["duplicate_booking_keys"]))
    tiers = Table(title="Passengers by tier")
    for col in ("tier", "passengers", "accommodated", "not accommodated", "booked cost"):
        tiers.add_column(col, justify="right" if col != "tier" else "left")
    for tier, row in summary["by_tier"].items():
        cost = ", ".join(f"{v} {k}" for k, v in row.get("cost", {}).items()) or "-"
        tiers.add_row(
            tier,
            str(row["passengers"]),
            str(row["accommodated"]),
            str(row.get("not_accommodated", 0)),
            cost,
        )
    care = summary.get("care", {})
    messages = Table(title=f"Care: {care.get('vouchers_issued', 0)} vouchers issued")
    for col in ("channel", "sent", "failed", "fallback", "queued"):
        messages.add_column(col, justify="right" if col != "channel" else "left")
    for channel, row in (care.get("notifications") or {}).items():
        messages.add_row(
            channel, str(row["sent"]), str(row["failed"]), str(row["fallback"]), str(row["queued"])
        )
    cards = care.get("cards") or {}
    wallet = Table(title="Care: meal cards and rides")
    wallet.add_column("item")
    wallet.add_column("value", justify="right")
    wallet.add_row("meal cards issued", str(cards.get("issued", 0)))
    for cur, amount in (cards.get("loaded") or {}).items():
        wallet.add_row(f"loaded ({cur})", amount)
    for cur, amount in (cards.get("planned") or {}).items():
        wallet.add_row(f"scheduled in drops ({cur})", amount)
    wallet.add_row(
        "drops loaded / still scheduled",
        f"{cards.get('drops_loaded', 0)} / {cards.get('drops_scheduled', 0)}",
    )
    for status, n in (care.get("transfers") or {}).items():
        wallet.add_row(f"transfers {status}", str(n))
    for vendor, n in (care.get("transfers_by_vendor") or {}).items():
        wallet.add_row(f"transfers by {vendor}", str(n))
    review = Table(title="Manual review by category")
    review.add_column("category")
    review.add_column("items", justify="right")
    for cat, n in summary["manual_review"].items() or {"-": 0}.items():
        review.add_row(cat, str(n))
    tables = [head, tiers, messages, wallet, review]
    search = summary.get("search")
    if search:
        hotels = Table(
            title=f"Hotel search ({search['strategy']}, time box {search['time_box_s']:g} s)"
        )
        for col in ("provider", "outcome", "offers", "kept after dedup", "seconds"):
            hotels.add_column(col, justify="left" if col in ("provider", "outcome") else "right")
        for row in search["providers"]:
            hotels.add_row(
                row["provider"],
                row["outcome"],
                str(row["offers"]),
                str(row["kept"]),
                f"{row['elapsed_s']:.2f}",
            )
        tables.append(hotels)
    stages = Table(title="Elapsed per stage (s)")
    stages.add_column("stage")
    stages.add_column("seconds", justify="right")
    for stage, secs in summary["elapsed_s"].items():
        stages.add_row(stage, f"{secs:.2f}")
    return [*tables, stages]


def demo(
    airport: Annotated[str, typer.Option(help="IATA code of the closed hub.")] = "SCL",
    passengers: Annotated[
        int, typer.Option(min=1, max=100_000, help="Stranded passengers.")
    ] = 5000,
    seed: Annotated[int, typer.Option(help="Seed for the manifest and the partners.")] = 7,
    workdir: Annotated[Path, typer.Option(help="Where the demo keeps its state.")] = Path(
        "nexa-demo"
    ),
    failure_rate: Annotated[
        float, typer.Option(min=0.0, max=0.9, help="Transient partner failure rate.")
    ] = 0.05,
    engine: Annotated[str, typer.Option(help="dbos (durable) or inprocess.")] = "dbos",
    workers: Annotated[int, typer.Option(min=1, max=8, help="Saga worker processes.")] = 3,
    slow_provider: Annotated[
        list[str] | None,
        typer.Option(
            "--slow-provider",
            help="NAME[=SECONDS]: that sandbox hotel provider (sandbox, sandbox-b) answers "
            "searches this late (default 5 s, over the 2 s search time box). Repeatable.",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Simulate a hub closure: case, demand, search, allocation, booking sagas, care.

    Re-running with the same options resumes or reports the same case; it never books
    a room twice.
    """
    _run(
        dict(
            airport=airport.upper(),
            passengers=passengers,
            seed=seed,
            workdir=workdir,
            transient_failure_rate=failure_rate,
            engine=engine,
            workers=workers,
        ),
        slow_provider or [],
        as_json,
    )


def _slow(specs: list[str]) -> tuple[tuple[str, float], ...]:
    from nexa_core.errors import InvalidInputError

    out = []
    for spec in specs:
        name, _, seconds = spec.partition("=")
        try:
            delay = float(seconds) if seconds else 5.0
        except ValueError:
            delay = -1.0
        if not name.strip() or not 0 < delay <= 600:
            raise InvalidInputError(
                f"--slow-provider must be NAME or NAME=SECONDS (0 < SECONDS <= 600), got {spec!r}",
                field="slow_provider",
            )
        out.append((name.strip(), delay))
    return tuple(out)


@handle_errors
def _run(options: dict[str, Any], slow: list[str], as_json: bool) -> None:
    opts = DemoOptions(**options, slow_providers=_slow(slow))
    console = Console(stderr=as_json)
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=False, disable=as_json) as progress:
        summary = anyio.run(run_demo, opts, _RichProgress(progress))
    if as_json:
        typer.echo(json.dumps(summary, indent=2))
    else:
        for table in _tables(summary):
            console.print(table)
        store = summary.get("store_url")
        if store:
            console.print(
                f"next: nexa care notifications --case {summary['case']} "
                f"--airline LAN --store-url {store}"
            )


def demo_worker(
    workdir: Annotated[Path, typer.Option()],
    airport: Annotated[str, typer.Option()],
    passengers: Annotated[int, typer.Option()],
    seed: Annotated[int, typer.Option()],
    failure_rate: Annotated[float, typer.Option()],
    executor: Annotated[int, typer.Option(min=1)],
    parent: Annotated[int, typer.Option()],
) -> None:
    """Internal: an extra saga worker process started by ``nexa demo``."""
    opts = DemoOptions(
        airport=airport,
        passengers=passengers,
        seed=seed,
        workdir=workdir,
        transient_failure_rate=failure_rate,
    )
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # stop like Ctrl-C
    with contextlib.suppress(KeyboardInterrupt):
        anyio.run(run_worker, opts, executor, parent)


def register(app: typer.Typer) -> None:
    """Attach ``nexa demo`` (and its hidden worker command)."""
    app.command("demo")(demo)
    app.command("demo-worker", hidden=True)(demo_worker)
