"""``nexa case`` — work with disruption cases.

The module is split in sections: shared helpers (tenant, store, running a coroutine),
then one section per command. Add new ``case_app`` commands in their own section.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import anyio
import typer

from nexa_cli._common import emit, fail, handle_errors

T = TypeVar("T")

case_app = typer.Typer(help="Open, inspect and report on disruption cases.", no_args_is_help=True)


# --------------------------------------------------------------------------- shared helpers

AirlineOption = Annotated[
    str | None,
    typer.Option(
        "--airline",
        envvar="NEXA_AIRLINE",
        help="Tenant airline (code or URN, e.g. LAN); required, or set NEXA_AIRLINE.",
        show_default=False,
    ),
]
StoreUrlOption = Annotated[
    str | None,
    typer.Option("--store-url", help="Operational store URL (default: NEXA_STORE_URL/nexa.toml)."),
]
ConfigOption = Annotated[
    str | None,
    typer.Option("--config", help="Settings file (default: $NEXA_CONFIG or ./nexa.toml)."),
]


def tenant_for(airline: str | None) -> Any:
    """The tenant context of ``--airline`` (a code such as ``LAN`` or an airline URN)."""
    from nexa_core.errors import InvalidInputError
    from nexa_core.tenancy import TenantContext
    from nexa_core.urn import Urn

    if not airline or not airline.strip():
        raise InvalidInputError(
            "the tenant is required: pass --airline (e.g. --airline LAN) or set NEXA_AIRLINE",
            field="airline",
        )
    text = airline.strip()
    urn = Urn.parse(text) if text.lower().startswith("urn:") else Urn("airline", text)
    return TenantContext.system(urn)


def open_store(store_url: str | None, config: str | None = None) -> Any:
    """The operational store for ``store_url`` (or the resolved settings), via the plugins."""
    from nexa_adapters.plugins import get_plugin_manager
    from nexa_adapters.settings import Settings
    from nexa_core.errors import ConfigurationError, InvalidInputError
    from nexa_core.runtime import SystemClock, UuidIds

    if config is not None and not Path(config).is_file():
        raise InvalidInputError(f"settings file {config} does not exist", path=config)
    settings = Settings.load(config, store_url=store_url)
    pm = get_plugin_manager()
    options = {
        "settings": settings,
        "clock": SystemClock(),
        "ids": UuidIds(),
        "seed": settings.seed,
    }
    store = pm.hook.nexa_store_from_url(url=settings.store_url, options=options)
    if store is None:
        raise ConfigurationError(
            f"no plugin handles the store URL {settings.store_url!r}", url=settings.store_url
        )
    return store


def run_with_store(
    store_url: str | None, config: str | None, action: Callable[[Any], Awaitable[T]]
) -> T:
    """Open the store, run ``await action(store)`` and close the store."""
    store = open_store(store_url, config)

    async def main() -> T:
        try:
            return await action(store)
        finally:
            close = getattr(store, "close", None)
            if close is not None:
                await close()

    return anyio.run(main)


# --------------------------------------------------------------------------- nexa case report


def _report_summary(report: Any, path: str) -> dict[str, Any]:
    return {
        "case": str(report.case_urn),
        "html": path,
        "status": report.status,
        "airport": report.airport,
        "flight": report.flight_number,
        "sub_cases": report.sub_cases,
        "passengers": report.passengers,
        "passengers_accommodated": report.passengers_accommodated,
        "hotels": len(report.allocation),
        "rooms": sum(a.rooms for a in report.allocation),
        "cost": {t.currency: str(t.cost) for t in report.totals},
        "review_items": report.review_items,
    }


def _report_human(d: dict[str, Any]) -> str:
    cost = ", ".join(f"{v} {k}" for k, v in d["cost"].items()) or "-"
    return (
        f"wrote {d['html']}: case {d['case']} ({d['status']}), "
        f"{d['passengers_accommodated']}/{d['passengers']} passengers in {d['hotels']} hotel(s), "
        f"{d['rooms']} room(s), cost {cost}, {d['review_items']} review item(s)"
    )


@case_app.command("report")
@handle_errors
def report(
    urn: Annotated[str, typer.Argument(help="The case URN, e.g. urn:case:c-1.")],
    html: Annotated[str, typer.Option("--html", help="Write the one-page HTML report here.")],
    airline: AirlineOption = None,
    store_url: StoreUrlOption = None,
    config: ConfigOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON summary.")] = False,
) -> None:
    """Render a one-page HTML report of a case: allocation table, charts, review items."""
    from nexa_adapters.reporting import build_case_report, render_case_report_html
    from nexa_core.errors import InvalidInputError
    from nexa_core.urn import Urn

    case_urn = Urn.parse(urn)
    if not case_urn.is_a("case"):
        raise InvalidInputError(f"{case_urn} is not a case URN", field="urn")
    tenant = tenant_for(airline)
    out = Path(html)
    if out.is_dir():
        fail(f"cannot write {html}: it is a directory", 2)
    if not out.parent.is_dir():
        fail(f"cannot write {html}: directory {out.parent} does not exist", 2)
    if not os.access(out.parent, os.W_OK) or (out.exists() and not os.access(out, os.W_OK)):
        fail(f"cannot write {html}: permission denied", 2)

    built = run_with_store(store_url, config, lambda s: build_case_report(s, tenant, case_urn))
    page = render_case_report_html(built)
    try:
        out.write_text(page, encoding="utf-8")
    except OSError as exc:
        fail(f"cannot write {html}: {exc.strerror or exc}", 2)
    emit(_report_summary(built, str(out)), as_json=as_json, human=_report_human)


# --------------------------------------------------------------------------- registration


def register(app: typer.Typer) -> None:
    """Attach ``nexa case``."""
    app.add_typer(case_app, name="case")
