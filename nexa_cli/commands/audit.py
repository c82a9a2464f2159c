"""``nexa audit`` — query the append-only audit log of a tenant."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from nexa_cli._common import emit, handle_errors
from nexa_cli._operator import JsonOption, audit_line, audit_row, parse_instant
from nexa_cli.commands.case import (
    AirlineOption,
    ConfigOption,
    StoreUrlOption,
    run_with_store,
    tenant_for,
)

audit_app = typer.Typer(help="Query the audit log.", no_args_is_help=True)


@audit_app.command("query")
@handle_errors
def query(
    entity: Annotated[str | None, typer.Option("--entity", help="Entity URN.")] = None,
    action: Annotated[
        str | None, typer.Option("--action", help="Action, e.g. demand.approved.")
    ] = None,
    correlation: Annotated[
        str | None, typer.Option("--correlation", help="Correlation URN.")
    ] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="From this instant (ISO 8601 with zone).")
    ] = None,
    until: Annotated[
        str | None, typer.Option("--until", help="Up to this instant (ISO 8601 with zone).")
    ] = None,
    limit: Annotated[int | None, typer.Option("--limit", help="At most N entries.")] = None,
    airline: AirlineOption = None,
    store_url: StoreUrlOption = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Audit entries of the tenant matching every filter given, oldest first."""
    from nexa_core.errors import InvalidInputError
    from nexa_core.ports import AuditQuery
    from nexa_core.urn import Urn

    tenant = tenant_for(airline)
    if limit is not None and limit < 1:
        raise InvalidInputError("--limit must be at least 1", field="limit")
    if action is not None and not action.strip():
        raise InvalidInputError("--action must not be empty", field="action")
    correlation_urn = Urn.parse(correlation.strip()) if correlation else None
    if correlation_urn is not None and not correlation_urn.is_a("correlation"):
        raise InvalidInputError(
            f"--correlation {correlation_urn} is not a correlation URN", field="correlation"
        )
    q = AuditQuery(
        entity_urn=Urn.parse(entity.strip()) if entity else None,
        action=action.strip() if action else None,
        correlation_urn=correlation_urn,
        since=parse_instant(since, "--since") if since else None,
        until=parse_instant(until, "--until") if until else None,
        limit=limit,
    )
    if q.since and q.until and q.since > q.until:
        raise InvalidInputError("--since is after --until", field="since")

    async def act(store: Any) -> list[Any]:
        return list(await store.audit.query(tenant, q))

    rows = [audit_row(e) for e in run_with_store(store_url, config, act)]
    emit(
        rows,
        as_json=as_json,
        human=lambda r: "\n".join(audit_line(x) for x in r) or "no audit entries",
    )


def register(app: typer.Typer) -> None:
    """Attach ``nexa audit``."""
    app.add_typer(audit_app, name="audit")
