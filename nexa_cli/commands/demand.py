"""``nexa demand`` — the supervisor's room-demand gate: list, approve, reject.

A trusted operator tool on the store's machine (no CLI login yet): ``--user`` and
``--as-role`` name the operator recorded in the audit log.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from nexa_cli._common import emit, handle_errors
from nexa_cli._operator import (
    EngineUrlOption,
    JsonOption,
    RoleOption,
    UserOption,
    parse_enum,
    parse_urn,
    principal_for,
    run_services,
    table,
)
from nexa_cli.commands.case import (
    AirlineOption,
    ConfigOption,
    StoreUrlOption,
    demand_row,
    find_records,
    tenant_for,
)

demand_app = typer.Typer(
    help="Approve, reject and list room demands (supervisor gate).", no_args_is_help=True
)

ReasonOption = Annotated[
    str, typer.Option("--reason", help="Why (recorded in the audit log; required).")
]


def _decide(
    approve: bool,
    urn: str,
    reason: str,
    airline: str | None,
    as_role: str,
    user: str,
    store_url: str | None,
    engine_url: str | None,
    config: str | None,
    as_json: bool,
) -> None:
    from nexa_core.errors import InvalidInputError

    demand_urn = parse_urn(urn, "demand")
    if not reason.strip():
        raise InvalidInputError("--reason must not be empty", field="reason")
    principal = principal_for(airline, as_role, user)

    async def act(nexa: Any, orch: Any, reviews: Any) -> Any:
        decide = orch.approve_demand if approve else orch.reject_demand
        return await decide(demand_urn, principal=principal, reason=reason)

    # the decision itself needs no policy; the orchestrator is built without one
    decided = run_services(
        store_url=store_url, config=config, engine_url=engine_url, policy=None, action=act
    )
    row = demand_row(decided)
    emit(
        row,
        as_json=as_json,
        human=lambda d: f"{d['demand']}: {d['status']} ({d['rooms']} rooms) — {d['reason']}",
    )


@demand_app.command("approve")
@handle_errors
def approve(
    urn: Annotated[str, typer.Argument(help="The demand URN, e.g. urn:demand:DMD-1.")],
    reason: ReasonOption,
    airline: AirlineOption = None,
    as_role: RoleOption = "OPS_SUPERVISOR",
    user: UserOption = "u-cli-operator",
    store_url: StoreUrlOption = None,
    engine_url: EngineUrlOption = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Approve a waiting demand (OPS_SUPERVISOR or ADMIN).

    A trusted operator tool on the store's machine (no CLI login yet); --user/--as-role are audited.
    """
    _decide(True, urn, reason, airline, as_role, user, store_url, engine_url, config, as_json)


@demand_app.command("reject")
@handle_errors
def reject(
    urn: Annotated[str, typer.Argument(help="The demand URN, e.g. urn:demand:DMD-1.")],
    reason: ReasonOption,
    airline: AirlineOption = None,
    as_role: RoleOption = "OPS_SUPERVISOR",
    user: UserOption = "u-cli-operator",
    store_url: StoreUrlOption = None,
    engine_url: EngineUrlOption = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Reject a waiting demand (OPS_SUPERVISOR or ADMIN).

    A trusted operator tool on the store's machine (no CLI login yet); --user/--as-role are audited.
    """
    _decide(False, urn, reason, airline, as_role, user, store_url, engine_url, config, as_json)


@demand_app.command("list")
@handle_errors
def list_(
    case: Annotated[str | None, typer.Option("--case", help="Only this case's demands.")] = None,
    status: Annotated[
        str | None, typer.Option("--status", help="Only demands in this status.")
    ] = None,
    airline: AirlineOption = None,
    store_url: StoreUrlOption = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """List the tenant's demands (optionally of one case or in one status)."""
    from nexa_core.model import DemandStatus

    tenant = tenant_for(airline)
    where: dict[str, Any] = {}
    if case is not None:
        where["case_urn"] = parse_urn(case, "case", "--case")
    if status is not None:
        where["status"] = parse_enum(DemandStatus, status, "--status")

    rows = [demand_row(d) for d in find_records(store_url, config, tenant, "demands", where)]
    emit(
        rows,
        as_json=as_json,
        human=lambda r: table(r, ("demand", "case", "type", "rooms", "status"), "no demands"),
    )


def register(app: typer.Typer) -> None:
    """Attach ``nexa demand``."""
    app.add_typer(demand_app, name="demand")
