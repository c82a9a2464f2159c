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
from nexa_cli._operator import (
    EngineUrlOption,
    JsonOption,
    RoleOption,
    UserOption,
    audit_line,
    audit_row,
    load_policy,
    packaged_policy_unless_active,
    parse_enum,
    parse_instant,
    parse_urn,
    principal_for,
    run_services,
    table,
)

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


def find_records(
    store_url: str | None,
    config: str | None,
    tenant: Any,
    table: str,
    where: dict[str, Any],
) -> list[Any]:
    """``store.<table>.find(tenant, **where)``; a ``case_urn`` filter must name a case of
    the tenant (unknown or another tenant's: NotFoundError, exit 3)."""

    async def act(store: Any) -> list[Any]:
        if "case_urn" in where:
            await store.cases.get(tenant, where["case_urn"])
        return list(await getattr(store, table).find(tenant, **where))

    return run_with_store(store_url, config, act)


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
        "policy": (
            {
                "policy": str(report.policy.urn),
                "name": report.policy.name,
                "version": report.policy.version,
                "state": report.policy.state,
            }
            if report.policy
            else None
        ),
        "search": [
            {
                "wave": w.sequence,
                "providers": [
                    {
                        "provider": p.provider,
                        "outcome": p.outcome,
                        "offers": p.offers,
                        "kept": p.kept,
                    }
                    for p in w.search
                ],
            }
            for w in report.waves
            if w.search
        ],
    }


def _report_human(d: dict[str, Any]) -> str:
    cost = ", ".join(f"{v} {k}" for k, v in d["cost"].items()) or "-"
    p = d["policy"]
    policy = f", policy {p['name']!r} v{p['version']}" if p else ""
    return (
        f"wrote {d['html']}: case {d['case']} ({d['status']}), "
        f"{d['passengers_accommodated']}/{d['passengers']} passengers in {d['hotels']} hotel(s), "
        f"{d['rooms']} room(s), cost {cost}, {d['review_items']} review item(s){policy}"
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


# --------------------------------------------------------------------------- operator commands
# nexa case open | list | show | reaccommodate (see nexa_cli._operator for the principal)


def _case_row(case: Any) -> dict[str, Any]:
    return {
        "case": str(case.urn),
        "status": case.status.value,
        "airport": case.airport_urn.id,
        "flight": case.flight.urn.id,
        "event_id": case.external_event_id,
        "policy": str(case.policy_urn) if case.policy_urn else None,
        "disrupted_at": case.disrupted_at.isoformat(),
        "next_departure": case.next_departure.isoformat() if case.next_departure else None,
    }


def demand_row(demand: Any) -> dict[str, Any]:
    return {
        "demand": str(demand.urn),
        "case": str(demand.case_urn),
        "type": demand.type.value,
        "rooms": demand.rooms_requested,
        "status": demand.status.value,
        "reason": demand.reason,
        "decided_by": str(demand.decided_by) if demand.decided_by else None,
    }


def policy_ref(record: Any) -> dict[str, Any]:
    """A stored policy version as the short JSON-ready reference commands print."""
    return {
        "policy": str(record.urn),
        "name": record.name,
        "version": record.number,
        "state": record.state.value,
    }


def _open_human(d: dict[str, Any]) -> str:
    demand = d["demand"]
    gate = f"demand {demand['status']} ({demand['rooms']} rooms)" if demand else "no demand"
    verb = "replayed" if d["replayed"] else "opened"
    p = d["policy"]
    policy = f", policy {p['name']!r} v{p['version']} ({p['state']})" if p else ""
    return f"{verb} {d['case']}: {d['sub_cases']} sub-case(s), {gate}{policy}"


@case_app.command("open")
@handle_errors
def open_(
    manifest: Annotated[str, typer.Option("--manifest", help="Manifest file (JSON or YAML).")],
    policy: Annotated[
        str | None,
        typer.Option(
            "--policy",
            help="Policy file (YAML/JSON), recorded on the case as an ad-hoc version "
            "(default: the tenant's active versions; none yet: the packaged demo policy).",
        ),
    ] = None,
    airline: AirlineOption = None,
    as_role: RoleOption = "OPS_SUPERVISOR",
    user: UserOption = "u-cli-operator",
    store_url: StoreUrlOption = None,
    engine_url: EngineUrlOption = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Open a case from an airline manifest (a replay of its event id returns the same case).

    Groups passengers by PNR into sub-cases and files the initial room demand (auto-approved
    when the policy allows it). Booking sagas are not started here. The policy version the
    case runs under (see `nexa policy resolve`) is recorded on the case.

    A trusted operator tool on the store's machine (no CLI login yet); --user/--as-role are audited.
    """
    from nexa_adapters.documents import parse_manifest
    from nexa_cli._common import read_document

    principal = principal_for(airline, as_role, user)
    parsed = parse_manifest(read_document(manifest, kind="manifest"))
    chosen = load_policy(policy)

    async def act(nexa: Any, orch: Any, reviews: Any) -> Any:
        from nexa_core.services import tenant_of

        note = await packaged_policy_unless_active(orch, tenant_of(principal))
        opened = await orch.open_case(parsed, principal=principal)
        policy_row = None
        if opened.case.policy_urn is not None:
            record = await nexa.store.policies.get(tenant_of(principal), opened.case.policy_urn)
            policy_row = policy_ref(record)
        return opened, policy_row, note

    opened, policy_row, note = run_services(
        store_url=store_url, config=config, engine_url=engine_url, policy=chosen, action=act
    )
    if note and not opened.replayed:
        typer.echo(note, err=True)
    out = {
        "case": str(opened.case.urn),
        "status": opened.case.status.value,
        "sub_cases": len(opened.sub_cases),
        "demand": demand_row(opened.demand) if opened.demand else None,
        "policy": policy_row,
        "replayed": opened.replayed,
    }
    emit(out, as_json=as_json, human=_open_human)


@case_app.command("list")
@handle_errors
def list_(
    status: Annotated[
        str | None, typer.Option("--status", help="Only cases in this status.")
    ] = None,
    airline: AirlineOption = None,
    store_url: StoreUrlOption = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """List the tenant's cases (optionally by status)."""
    from nexa_core.model import CaseStatus

    tenant = tenant_for(airline)
    where = {"status": parse_enum(CaseStatus, status, "--status")} if status else {}

    rows = [_case_row(c) for c in find_records(store_url, config, tenant, "cases", where)]
    emit(
        rows,
        as_json=as_json,
        human=lambda r: table(r, ("case", "status", "airport", "flight", "event_id"), "no cases"),
    )


async def _timeline(store: Any, tenant: Any, case: Any, entities: list[Any]) -> list[Any]:
    """Audit entries of the case, its sub-cases, demands and review items (and of its
    correlation), oldest first — one query for the tenant's entries since the case opened."""
    from nexa_core.ports import AuditQuery

    wanted = {str(u) for u in entities}
    since = case.created_at
    if since is None:  # no opening time recorded: ask per entity
        seen: dict[str, Any] = {}
        for urn in entities:
            for entry in await store.audit.query(tenant, AuditQuery(entity_urn=urn)):
                seen[str(entry.urn)] = entry
        return sorted(seen.values(), key=lambda e: (e.at, str(e.urn)))
    corr = case.correlation_urn
    return [
        e
        for e in await store.audit.query(tenant, AuditQuery(since=since))
        if str(e.entity_urn) in wanted or (corr is not None and e.correlation_urn == corr)
    ]


def _show_human(d: dict[str, Any]) -> str:
    c = d["case"]
    counts = ", ".join(f"{k} {v}" for k, v in d["sub_case_status"].items()) or "none"
    lines = [
        f"case {c['case']} ({c['status']})",
        f"  airport {c['airport']}  flight {c['flight']}  event {c['event_id']}",
        f"  disrupted {c['disrupted_at']}  next departure {c['next_departure'] or '-'}",
        f"  policy {c['policy'] or '-'}",
        f"  sub-cases: {d['sub_cases']} ({counts})",
    ]
    for dm in d["demands"]:
        lines.append(f"  demand {dm['demand']}: {dm['type']} {dm['rooms']} rooms {dm['status']}")
    lines.append(f"  open review items: {d['open_reviews']}")
    lines.append(f"timeline ({len(d['timeline'])} of {d['timeline_total']} entries):")
    lines += ["  " + audit_line(r) for r in d["timeline"]]
    return "\n".join(lines)


@case_app.command("show")
@handle_errors
def show(
    urn: Annotated[str, typer.Argument(help="The case URN, e.g. urn:case:c-1.")],
    limit: Annotated[
        int, typer.Option("--limit", min=1, help="Show the newest N timeline entries.")
    ] = 50,
    airline: AirlineOption = None,
    store_url: StoreUrlOption = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show a case: header, sub-case status counts, demands and a timeline from the audit log
    (the case, its sub-cases, demands and review items)."""
    from collections import Counter

    from nexa_core.model import ReviewState

    case_urn = parse_urn(urn, "case")
    tenant = tenant_for(airline)

    async def act(store: Any) -> dict[str, Any]:
        case = await store.cases.get(tenant, case_urn)
        subs = await store.sub_cases.find(tenant, case_urn=case.urn)
        demands = await store.demands.find(tenant, case_urn=case.urn)
        reviews = await store.reviews.find(tenant, case_urn=case.urn)
        entities = [case.urn, *(s.urn for s in subs), *(d.urn for d in demands)]
        entities += [r.urn for r in reviews]
        timeline = await _timeline(store, tenant, case, entities)
        counts = Counter(s.status.value for s in subs)
        return {
            "case": _case_row(case),
            "sub_cases": len(subs),
            "sub_case_status": dict(sorted(counts.items())),
            "demands": [demand_row(d) for d in demands],
            "open_reviews": sum(1 for r in reviews if r.state is not ReviewState.RESOLVED),
            "timeline_total": len(timeline),
            "timeline": [audit_row(e) for e in timeline[-limit:]],
        }

    emit(run_with_store(store_url, config, act), as_json=as_json, human=_show_human)


@case_app.command("reaccommodate")
@handle_errors
def reaccommodate(
    urn: Annotated[str, typer.Argument(help="The case URN.")],
    departure: Annotated[
        str, typer.Option("--departure", help="New departure, ISO 8601 with a time zone.")
    ],
    airline: AirlineOption = None,
    as_role: RoleOption = "OPS_SUPERVISOR",
    user: UserOption = "u-cli-operator",
    store_url: StoreUrlOption = None,
    engine_url: EngineUrlOption = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Re-plan a case's stays for a new departure; groups whose stay changes are listed
    (offers already made roll back, groups that no longer need a hotel resolve). The
    buffers come from the policy version recorded on the case.

    A trusted operator tool on the store's machine (no CLI login yet); --user/--as-role are audited.
    """
    case_urn = parse_urn(urn, "case")
    when = parse_instant(departure, "--departure")
    principal = principal_for(airline, as_role, user)

    async def act(nexa: Any, orch: Any, reviews: Any) -> list[Any]:
        return list(await orch.reaccommodate(case_urn, when, principal=principal))

    changed = run_services(
        store_url=store_url, config=config, engine_url=engine_url, policy=None, action=act
    )
    out = {
        "case": str(case_urn),
        "departure": when.isoformat(),
        "changed": [
            {
                "sub_case": str(s.urn),
                "group": s.group.group_id,
                "status": s.status.value,
                "nights": s.stay_plan.nights if s.stay_plan else None,
            }
            for s in changed
        ],
    }
    emit(
        out,
        as_json=as_json,
        human=lambda d: (
            f"re-accommodated {d['case']} for {d['departure']}: "
            f"{len(d['changed'])} sub-case(s) changed"
        ),
    )


# --------------------------------------------------------------------------- registration


def register(app: typer.Typer) -> None:
    """Attach ``nexa case``."""
    app.add_typer(case_app, name="case")
