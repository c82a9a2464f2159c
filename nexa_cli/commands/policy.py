"""``nexa policy`` — validate policy documents and explain which one applies."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from nexa_cli._common import emit, handle_errors, read_document
from nexa_core.errors import PolicyValidationError
from nexa_core.model import Tier

policy_app = typer.Typer(help="Validate and explain policy documents.", no_args_is_help=True)


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
