"""``nexa review`` — the manual-review queue: list, claim, rebook, resolve.

A trusted operator tool on the store's machine (no CLI login yet): ``--user`` names the
operator who claims an item; only that user can resolve it.
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
    find_records,
    tenant_for,
)

review_app = typer.Typer(
    help="List, claim, rebook and resolve manual-review items.", no_args_is_help=True
)


def _review_row(item: Any) -> dict[str, Any]:
    return {
        "review": str(item.urn),
        "case": str(item.case_urn),
        "category": item.category.value,
        "state": item.state.value,
        "reason": item.reason,
        "groups": list(item.affected_groups),
        "assigned_to": str(item.assigned_to) if item.assigned_to else None,
        "resolution": item.resolution,
        "recommendations": [
            {"rank": r.rank, "action": r.action, "reason": r.reason} for r in item.recommendations
        ],
    }


def _item_human(d: dict[str, Any]) -> str:
    who = f" by {d['assigned_to']}" if d["assigned_to"] else ""
    tail = f" — {d['resolution']}" if d["resolution"] else ""
    return f"{d['review']}: {d['state']}{who} ({d['category']}){tail}"


@review_app.command("list")
@handle_errors
def list_(
    case: Annotated[str | None, typer.Option("--case", help="Only this case's items.")] = None,
    state: Annotated[str | None, typer.Option("--state", help="OPEN, CLAIMED or RESOLVED.")] = None,
    airline: AirlineOption = None,
    store_url: StoreUrlOption = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """List the tenant's manual-review items (optionally of one case or in one state)."""
    from nexa_core.model import ReviewState

    tenant = tenant_for(airline)
    where: dict[str, Any] = {}
    if case is not None:
        where["case_urn"] = parse_urn(case, "case", "--case")
    if state is not None:
        where["state"] = parse_enum(ReviewState, state, "--state")

    rows = [_review_row(r) for r in find_records(store_url, config, tenant, "reviews", where)]
    emit(
        rows,
        as_json=as_json,
        human=lambda r: table(
            r, ("review", "case", "category", "state", "assigned_to"), "no review items"
        ),
    )


@review_app.command("claim")
@handle_errors
def claim(
    urn: Annotated[str, typer.Argument(help="The review item URN, e.g. urn:review:rv-1.")],
    airline: AirlineOption = None,
    as_role: RoleOption = "OPS_SUPERVISOR",
    user: UserOption = "u-cli-operator",
    store_url: StoreUrlOption = None,
    engine_url: EngineUrlOption = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Claim an item (one operator at a time; another user's claim is a conflict, exit 4).

    A trusted operator tool on the store's machine (no CLI login yet); --user/--as-role are audited.
    """
    review_urn = parse_urn(urn, "review")
    principal = principal_for(airline, as_role, user)

    async def act(nexa: Any, orch: Any, reviews: Any) -> Any:
        return await reviews.claim(review_urn, principal=principal)

    item = run_services(
        store_url=store_url, config=config, engine_url=engine_url, policy=None, action=act
    )
    emit(_review_row(item), as_json=as_json, human=_item_human)


@review_app.command("resolve")
@handle_errors
def resolve(
    urn: Annotated[str, typer.Argument(help="The review item URN.")],
    resolution: Annotated[
        str, typer.Option("--resolution", help="What was done (recorded; required).")
    ],
    airline: AirlineOption = None,
    as_role: RoleOption = "OPS_SUPERVISOR",
    user: UserOption = "u-cli-operator",
    store_url: StoreUrlOption = None,
    engine_url: EngineUrlOption = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Resolve an item you claimed (claim it first: else a conflict, exit 4).

    A trusted operator tool on the store's machine (no CLI login yet); --user/--as-role are audited.
    """
    from nexa_core.errors import InvalidInputError

    review_urn = parse_urn(urn, "review")
    if not resolution.strip():
        raise InvalidInputError("--resolution must not be empty", field="resolution")
    principal = principal_for(airline, as_role, user)

    async def act(nexa: Any, orch: Any, reviews: Any) -> Any:
        return await reviews.resolve(review_urn, resolution, principal=principal)

    item = run_services(
        store_url=store_url, config=config, engine_url=engine_url, policy=None, action=act
    )
    emit(_review_row(item), as_json=as_json, human=_item_human)


@review_app.command("rebook")
@handle_errors
def rebook(
    urn: Annotated[str, typer.Argument(help="The review item URN (claimed by you).")],
    sub_case: Annotated[str, typer.Option("--sub-case", help="The sub-case to rebook.")],
    offer: Annotated[
        list[str],
        typer.Option(
            "--offer", help="Offer URN from the case's allocation (repeatable; first = primary)."
        ),
    ],
    airline: AirlineOption = None,
    as_role: RoleOption = "OPS_SUPERVISOR",
    user: UserOption = "u-cli-operator",
    store_url: StoreUrlOption = None,
    engine_url: EngineUrlOption = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Start a new booking saga for a sub-case of an item you claimed, at the offers you
    choose (the entity lock keeps a second operator out while it runs; exit 4).

    A trusted operator tool on the store's machine (no CLI login yet); --user/--as-role are audited.
    """
    review_urn = parse_urn(urn, "review")
    sub_case_urn = parse_urn(sub_case, "sub-case", "--sub-case")
    offers = [parse_urn(o, "offer", "--offer") for o in offer]
    principal = principal_for(airline, as_role, user)

    async def act(nexa: Any, orch: Any, reviews: Any) -> dict[str, Any]:
        from nexa_core.services import tenant_of

        workflow = await reviews.rebook_at(review_urn, sub_case_urn, offers, principal=principal)
        sub = await nexa.store.sub_cases.get(tenant_of(principal), sub_case_urn)
        return {
            "review": str(review_urn),
            "sub_case": str(sub_case_urn),
            "workflow": workflow,
            "status": sub.status.value,
        }

    out = run_services(
        store_url=store_url, config=config, engine_url=engine_url, policy=None, action=act
    )
    emit(
        out,
        as_json=as_json,
        human=lambda d: f"rebooking {d['sub_case']} ({d['workflow']}): {d['status']}",
    )


def register(app: typer.Typer) -> None:
    """Attach ``nexa review``."""
    app.add_typer(review_app, name="review")
