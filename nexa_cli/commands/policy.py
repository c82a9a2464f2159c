"""``nexa policy`` — validate and explain policy documents; store, activate and resolve
the tenant's policy versions (``add``, ``activate``, ``history``, ``resolve``)."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from nexa_cli._common import emit, handle_errors, read_document
from nexa_cli._operator import JsonOption, RoleOption, UserOption
from nexa_cli.commands.case import AirlineOption, ConfigOption, StoreUrlOption
from nexa_core.errors import PolicyValidationError
from nexa_core.model import Tier

policy_app = typer.Typer(
    help="Validate and explain policy documents; add, activate and resolve stored versions.",
    no_args_is_help=True,
)


def _load(path: str) -> list[Any]:
    from nexa_adapters.documents.policy import parse_policies

    return parse_policies(read_document(path, kind="policy"))


@policy_app.command("validate")
@handle_errors
def validate(
    file: Annotated[str, typer.Argument(help="Policy file (YAML or JSON; one policy or a list).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Check a policy file; every problem is printed with its JSON path (exit 2)."""
    try:
        policies = _load(file)
    except PolicyValidationError as exc:
        problems = list(exc.context.get("problems", [str(exc)]))
        if as_json:
            emit({"valid": False, "problems": problems}, as_json=True)
        else:
            for p in problems:
                typer.echo(f"error: {p}", err=True)
        raise typer.Exit(2) from None
    data = {
        "valid": True,
        "policies": [
            {
                "name": p.name,
                "context": {
                    "airline": p.context.airline,
                    "airport": p.context.airport,
                    "country": p.context.country,
                },
                "tiers": sorted(t.value for t in p.tiers),
                "regulations": sorted(p.regulations),
            }
            for p in policies
        ],
    }
    emit(
        data,
        as_json=as_json,
        human=lambda d: "\n".join(
            f"ok  {p['name']}  [{', '.join(p['tiers'])}]" for p in d["policies"]
        ),
    )


def _human_explanation(d: dict[str, Any]) -> str:
    q = d["query"]
    lines = [
        f"query    tier={q['tier']} airport={q['airport'] or '-'} "
        f"airline={q['airline'] or '-'} country={q['country'] or '-'}"
    ]
    m = d["matched"]
    lines.append(
        "matched  none (a POLICY_VIOLATION review item would be opened)"
        if m is None
        else f"matched  {m['name']!r} by {m['rule']}"
    )
    for c in d["candidates"]:
        mark = "*" if c["chosen"] else ("=" if c["matched"] else "-")
        lines.append(f"  {mark} {c['name']!r} ({c['rule']}): {c['reason']}")
    return "\n".join(lines)


@policy_app.command("explain")
@handle_errors
def explain_cmd(
    file: Annotated[str, typer.Argument(help="Policy file (one policy or a list).")],
    airport: Annotated[str, typer.Option("--airport", help="IATA code, e.g. SCL.")],
    tier: Annotated[Tier, typer.Option("--tier", help="Passenger tier.")],
    airline: Annotated[str | None, typer.Option("--airline", help="Airline code.")] = None,
    country: Annotated[
        str | None, typer.Option("--country", help="Country (default: the airport's).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show which policy applies to a tier at an airport, and why the others do not."""
    from nexa_adapters.airports import default_catalog
    from nexa_core.policy import explain

    policies = _load(file)
    if country is None:
        country = default_catalog().get(airport).country
    result = explain(policies, tier=tier, airport=airport, airline=airline, country=country)
    emit(result.to_dict(), as_json=as_json, human=_human_explanation)
    if result.resolved is None:
        raise typer.Exit(1)


@policy_app.command("schema")
@handle_errors
def schema() -> None:
    """Print the JSON Schema of a policy document."""
    from nexa_adapters.documents.policy import policy_json_schema

    emit(policy_json_schema(), as_json=True)


# --------------------------------------------------------------------------- stored versions
# nexa policy add | activate | history | resolve (the tenant's versions in the store)


def _record_row(record: Any) -> dict[str, Any]:
    airline, airport, country, tiers = [*record.context_key.split("|"), "", "", "", ""][:4]
    return {
        "policy": str(record.urn),
        "name": record.name,
        "version": record.number,
        "state": record.state.value,
        "airline": None if airline == "*" else airline,
        "airport": None if airport == "*" else airport,
        "country": None if country == "*" else country,
        "tiers": tiers.split(",") if tiers else [],
        "created_at": record.created_at.isoformat() if record.created_at else None,
    }


def _record_line(r: dict[str, Any]) -> str:
    scope = "/".join(x for x in (r["airline"], r["airport"], r["country"]) if x) or "global"
    return f"{r['policy']}  {r['name']!r} v{r['version']} {r['state']}  [{scope}]"


def _services(
    airline: str | None,
    as_role: str,
    user: str,
    store_url: str | None,
    config: str | None,
    action: Any,
) -> Any:
    from nexa_cli._operator import principal_for, run_services

    principal = principal_for(airline, as_role, user)

    async def act(nexa: Any, orch: Any, reviews: Any) -> Any:
        return await action(orch.versions, principal)

    return run_services(
        store_url=store_url, config=config, engine_url=None, policy=None, action=act
    )


@policy_app.command("add")
@handle_errors
def add(
    file: Annotated[str, typer.Argument(help="Policy file (YAML or JSON; one policy or a list).")],
    activate: Annotated[
        bool, typer.Option("--activate", help="Activate the new version(s) right away.")
    ] = False,
    reason: Annotated[
        str | None, typer.Option("--reason", help="Recorded in the audit log.")
    ] = None,
    airline: AirlineOption = None,
    as_role: RoleOption = "OPS_SUPERVISOR",
    user: UserOption = "u-cli-operator",
    store_url: StoreUrlOption = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Store each policy of a file as a new DRAFT version of its context (numbered per
    context); with --activate it becomes the ACTIVE version right away.

    A draft has no effect until `nexa policy activate`. Every change is audited.
    """
    from nexa_core.services.policies import add_policies

    policies = _load(file)
    why = reason or f"added from {file}"

    async def act(versions: Any, principal: Any) -> list[Any]:
        return await add_policies(
            versions, policies, principal=principal, reason=why, activate=activate
        )

    rows = [_record_row(r) for r in _services(airline, as_role, user, store_url, config, act)]
    emit(rows, as_json=as_json, human=lambda d: "\n".join("added " + _record_line(r) for r in d))


@policy_app.command("activate")
@handle_errors
def activate_cmd(
    urn: Annotated[str, typer.Argument(help="The version's URN, e.g. urn:policy:p-….")],
    reason: Annotated[
        str | None, typer.Option("--reason", help="Recorded in the audit log.")
    ] = None,
    airline: AirlineOption = None,
    as_role: RoleOption = "OPS_SUPERVISOR",
    user: UserOption = "u-cli-operator",
    store_url: StoreUrlOption = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Make a DRAFT version ACTIVE (or roll back to an ARCHIVED one); the ACTIVE version of
    the same context is archived. Cases opened from now on record this version."""
    from nexa_cli._operator import parse_urn
    from nexa_core.services.policies import activate_policy

    policy_urn = parse_urn(urn, "policy")
    why = reason or "activated with nexa policy activate"

    async def act(versions: Any, principal: Any) -> Any:
        return await activate_policy(versions, policy_urn, principal=principal, reason=why)

    row = _record_row(_services(airline, as_role, user, store_url, config, act))
    emit(row, as_json=as_json, human=lambda r: "activated " + _record_line(r))


@policy_app.command("history")
@handle_errors
def history(
    urn: Annotated[
        str | None, typer.Argument(help="One version's URN: show its audit trail.")
    ] = None,
    airline: AirlineOption = None,
    as_role: RoleOption = "OPS_SUPERVISOR",
    user: UserOption = "u-cli-operator",
    store_url: StoreUrlOption = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """List the tenant's policy versions (oldest first: DRAFT, ACTIVE, ARCHIVED and the
    AD_HOC files cases were opened with); with a URN, that version's audit trail."""
    from nexa_cli._operator import audit_line, audit_row, parse_urn
    from nexa_core.services.policies import policy_history

    policy_urn = parse_urn(urn, "policy") if urn else None

    async def act(versions: Any, principal: Any) -> Any:
        return await policy_history(versions, principal=principal, urn=policy_urn)

    records, trail = _services(airline, as_role, user, store_url, config, act)
    data: dict[str, Any] = {
        "versions": [_record_row(r) for r in records],
        "trail": [audit_row(e) for e in trail],
    }

    def human(d: dict[str, Any]) -> str:
        if not d["versions"]:
            return "no policy versions stored (add one with `nexa policy add FILE`)"
        lines = [_record_line(r) for r in d["versions"]]
        lines += ["  " + audit_line(e) for e in d["trail"]]
        return "\n".join(lines)

    emit(data if policy_urn else data["versions"], as_json=as_json, human=lambda _: human(data))


@policy_app.command("resolve")
@handle_errors
def resolve_cmd(
    airport: Annotated[str, typer.Option("--airport", help="IATA code, e.g. SCL.")],
    tier: Annotated[
        Tier | None, typer.Option("--tier", help="Only this tier (default: every tier).")
    ] = None,
    country: Annotated[
        str | None, typer.Option("--country", help="Country (default: the airport's).")
    ] = None,
    airline: AirlineOption = None,
    as_role: RoleOption = "OPS_SUPERVISOR",
    user: UserOption = "u-cli-operator",
    store_url: StoreUrlOption = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Which stored ACTIVE version applies at an airport (most specific scope first:
    airport+airline, airport, country+airline, country, airline, global), per tier, and
    the version the next case opened there will record (exit 1 when none applies)."""
    from nexa_adapters.airports import default_catalog
    from nexa_core.services.policies import resolve_policies

    code = airport.strip().upper()
    if country is None:
        country = default_catalog().get(code).country
    tiers = (tier,) if tier is not None else tuple(Tier)

    async def act(versions: Any, principal: Any) -> Any:
        return await resolve_policies(
            versions, principal=principal, airport=code, country=country, tiers=tiers
        )

    rows, case, why = _services(airline, as_role, user, store_url, config, act)

    def ref(resolved: Any) -> dict[str, Any] | None:
        if resolved is None:
            return None
        v = resolved.version
        return {
            "policy": str(v.urn),
            "name": v.policy.name,
            "version": v.number,
            "rule": resolved.rule.label,
        }

    data = {
        "airport": code,
        "country": country,
        "tiers": [
            {"tier": r.tier.value, "matched": ref(r.resolved), "error": r.error} for r in rows
        ],
        "next_case": ref(case),
        "error": why,
    }

    def human(d: dict[str, Any]) -> str:
        n = d["next_case"]
        lines = [
            f"next case at {d['airport']}: "
            + (
                f"{n['policy']} {n['name']!r} v{n['version']} (by {n['rule']})"
                if n
                else f"none — {d['error']}"
            )
        ]
        for t in d["tiers"]:
            m = t["matched"]
            lines.append(
                f"  {t['tier']:<16} "
                + (f"{m['name']!r} v{m['version']} ({m['policy']}) by {m['rule']}" if m else "-")
            )
        return "\n".join(lines)

    emit(data, as_json=as_json, human=human)
    if case is None:
        raise typer.Exit(1)


def _synthesis_human(d: dict[str, Any]) -> str:
    lines = [f"draft ({d['source']}, {d['modelVersion']}), confidence {d['confidence']:.2f}"]
    lines += ["  " + line for line in json.dumps(d["policy"], indent=2).splitlines()]
    for w in d["warnings"]:
        lines.append(f"warning  {w['field']}: {w['message']}")
    if d["diff"] is None:
        lines.append("diff: no active policy applies to this context; the whole draft is new")
    else:
        lines.append(f"diff against {d['against']}:")
        for row in d["diff"]:
            lines.append(f"  {row['field']}: {row['active']!r} -> {row['draft']!r}")
        if not d["diff"]:
            lines.append("  (no difference)")
    lines.append("not activated: review the warnings, then store and activate the draft")
    return "\n".join(lines)


@policy_app.command("synthesize")
@handle_errors
def synthesize_cmd(
    text: Annotated[str | None, typer.Option("--text", help="The rules in plain words.")] = None,
    file: Annotated[
        str | None, typer.Option("--file", help="A text file with the rules ('-' = stdin).")
    ] = None,
    airline: Annotated[
        str | None,
        typer.Option("--airline", envvar="NEXA_AIRLINE", help="Tenant airline code (e.g. LAN)."),
    ] = None,
    airport: Annotated[
        str | None, typer.Option("--airport", help="Context airport (IATA).")
    ] = None,
    country: Annotated[str | None, typer.Option("--country", help="Context country (ISO).")] = None,
    currency: Annotated[
        str | None, typer.Option("--currency", help="Currency for amounts given without one.")
    ] = None,
    name: Annotated[str | None, typer.Option("--name", help="Name of the draft.")] = None,
    against: Annotated[
        str | None,
        typer.Option("--against", help="Diff against this policy file instead of the store."),
    ] = None,
    synthesizer: Annotated[
        str | None, typer.Option("--synthesizer", help="rules (default) or llm.")
    ] = None,
    store_url: Annotated[str | None, typer.Option("--store-url", help="Store URL.")] = None,
    config: Annotated[str | None, typer.Option("--config", help="Settings file.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Turn a description into a policy draft with confidence and per-field warnings, and
    show how it differs from the active policy (nothing is stored or activated)."""
    import sys

    import anyio

    from nexa_adapters.bootstrap import bootstrap
    from nexa_adapters.disruption import policy_synthesizer
    from nexa_adapters.settings import Settings
    from nexa_adapters.synthesis import policy_diff, synthesize_draft
    from nexa_cli.commands.case import tenant_for
    from nexa_core.errors import InvalidInputError, NoPolicyMatchError
    from nexa_core.policy import PolicyService, resolve

    if (text is None) == (file is None):
        raise InvalidInputError("give exactly one of --text or --file", field="text")
    if file is not None:
        if file == "-":
            text = sys.stdin.read(200_001)
        else:
            with open(file, encoding="utf-8") as fh:
                text = fh.read(200_001)
    assert text is not None
    tenant = tenant_for(airline)
    context = {
        k: v.strip().upper()
        for k, v in {"airport": airport, "country": country, "currency": currency}.items()
        if v
    }
    if name:
        context["name"] = name
    nexa = bootstrap(Settings.load(config, store_url=store_url))

    async def main() -> dict[str, Any]:
        try:
            draft = await synthesize_draft(
                policy_synthesizer(nexa, synthesizer), tenant, text, context
            )
            tier = sorted(draft.policy.tiers, key=list(Tier).index)[0]
            where = {
                "tier": tier,
                "airport": draft.policy.context.airport,
                "airline": draft.policy.context.airline or tenant.airline_urn.id,
                "country": draft.policy.context.country,
            }
            active = None
            label = None
            try:
                if against is not None:
                    resolved = resolve(_load(against), **where)
                    label = f"{against} ({resolved.policy.name!r})"
                else:
                    service = PolicyService(nexa.store, clock=nexa.clock, ids=nexa.ids)
                    resolved = await service.resolve(tenant, **where)
                    label = f"active {resolved.version.label}"
                active = resolved.policy
            except NoPolicyMatchError:
                pass
            out = draft.to_dict()
            out["against"] = label
            out["diff"] = policy_diff(draft.policy, active)
            return out
        finally:
            await nexa.aclose()

    emit(anyio.run(main), as_json=as_json, human=_synthesis_human)


def register(app: typer.Typer) -> None:
    """Attach ``nexa policy``."""
    app.add_typer(policy_app, name="policy")
