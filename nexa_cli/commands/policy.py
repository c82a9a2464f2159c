"""``nexa policy`` — validate policy documents and explain which one applies."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from nexa_cli._common import emit, handle_errors, read_document
from nexa_core.errors import PolicyValidationError
from nexa_core.model import Tier

policy_app = typer.Typer(help="Validate and explain policy documents.", no_args_is_help=True)


def _load(path: str) -> list[Any]:
    from nexa_adapters.documents.policy import parse_policies

    return parse_policies(read_document(path))


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


def register(app: typer.Typer) -> None:
    """Attach ``nexa policy``."""
    app.add_typer(policy_app, name="policy")
