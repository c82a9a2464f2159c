"""``nexa airline`` — read a flight's manifest the way a case would get it.

``nexa airline manifest --pnl LA500.pnl --adl LA500-1.adl`` parses an IATA PNL and applies
the ADLs in order; every malformed line is printed with its number (exit 2), and a list
carrying passport or identity data is refused whole (exit 2). ``--flight`` asks the
configured airline adapter (sandbox, pnl inbox or PSS JSON) instead. Nothing is stored.
"""

from __future__ import annotations

from collections import Counter
from typing import Annotated, Any

import typer

from nexa_cli._common import emit, fail, handle_errors

airline_app = typer.Typer(
    help="Airline adapters: parse PNL/ADL lists, pull a flight's manifest.", no_args_is_help=True
)


def _summary(flight: str, groups: Any) -> dict[str, Any]:
    tiers: Counter[str] = Counter()
    needs: Counter[str] = Counter()
    types: Counter[str] = Counter()
    for g in groups:
        for p in g.passengers:
            tiers[p.cabin.value] += 1
            types[p.type.value] += 1
            for n in p.special_needs:
                needs[n.value] += 1
    return {
        "flight": flight,
        "groups": len(groups),
        "passengers": sum(g.size for g in groups),
        "tiers": dict(sorted(tiers.items())),
        "types": dict(sorted(types.items())),
        "special_needs": dict(sorted(needs.items())),
        "pnrs": [
            {
                "pnr": str(g.pnr_urn),
                "passengers": g.size,
                "tier": g.tier.value,
                "special_needs": sorted({n.value for p in g.passengers for n in p.special_needs}),
            }
            for g in groups
        ],
    }


def _human(d: dict[str, Any]) -> str:
    def fmt(c: dict[str, int]) -> str:
        return ", ".join(f"{k} {v}" for k, v in c.items()) or "none"

    lines = [
        f"{d['flight']}: {d['passengers']} passenger(s) in {d['groups']} PNR group(s)",
        f"  tiers: {fmt(d['tiers'])}",
        f"  types: {fmt(d['types'])}",
        f"  special needs: {fmt(d['special_needs'])}",
    ]
    for g in d["pnrs"]:
        extra = f"  [{', '.join(g['special_needs'])}]" if g["special_needs"] else ""
        lines.append(f"  {g['pnr']}  {g['passengers']} pax  {g['tier']}{extra}")
    return "\n".join(lines)


@airline_app.command("manifest")
@handle_errors
def manifest_cmd(
    pnl: Annotated[str | None, typer.Option("--pnl", help="A PNL teletype file.")] = None,
    adl: Annotated[
        list[str] | None, typer.Option("--adl", help="ADL file(s), applied in the order given.")
    ] = None,
    flight: Annotated[
        str | None,
        typer.Option("--flight", help="Ask the airline adapter for this flight URN instead."),
    ] = None,
    source: Annotated[
        str | None, typer.Option("--source", help="Airline adapter: sandbox, pnl or pss.")
    ] = None,
    url: Annotated[
        str | None, typer.Option("--url", help="PNL inbox directory or PSS base URL.")
    ] = None,
    airline: Annotated[
        str | None,
        typer.Option("--airline", envvar="NEXA_AIRLINE", help="Tenant airline (e.g. LAN)."),
    ] = None,
    pnr_vendor: Annotated[
        str, typer.Option("--pnr-vendor", help="Vendor segment of the PNR URNs (the PSS).")
    ] = "pss",
    config: Annotated[str | None, typer.Option("--config", help="Settings file.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show a flight's PNR groups, tiers and special needs (errors name their lines)."""
    import anyio

    from nexa_adapters.airline import TeletypeAirline
    from nexa_cli.commands.case import tenant_for
    from nexa_core.errors import InvalidInputError
    from nexa_core.urn import Urn

    tenant = tenant_for(airline)
    if (pnl is None) == (flight is None):
        raise InvalidInputError("give --pnl (with optional --adl) or --flight", field="pnl")
    if pnl is not None:
        provider = TeletypeAirline(pnr_vendor=pnr_vendor)

        def read(path: str) -> str:
            with open(path, encoding="ascii", errors="replace") as fh:
                return fh.read(5_000_001)

        try:
            listed = provider.receive(tenant.airline_urn, read(pnl))
            for path in adl or []:
                listed = provider.receive(tenant.airline_urn, read(path))
        except InvalidInputError as exc:
            problems = list(exc.context.get("problems", []))
            if len(problems) < 2:
                raise
            for p in problems:
                typer.echo(f"error: {p}", err=True)
            fail(f"{len(problems)} problems; nothing of the list was kept", 2)
        flight_urn = Urn("flight", listed.flight_id)
    else:
        flight_urn = Urn.parse(flight or "")
        provider = None

    async def main() -> Any:
        if provider is not None:
            return await provider.manifest(tenant.airline_urn, flight_urn)
        from nexa_adapters.bootstrap import bootstrap
        from nexa_adapters.disruption import airline_provider
        from nexa_adapters.settings import Settings

        nexa = bootstrap(Settings.load(config))
        try:
            adapter = airline_provider(nexa, source, pnl_inbox=url, pss_base_url=url)
            return await adapter.manifest(tenant.airline_urn, flight_urn)
        finally:
            await nexa.aclose()

    groups = anyio.run(main)
    emit(_summary(str(flight_urn), groups), as_json=as_json, human=_human)


def register(app: typer.Typer) -> None:
    """Attach ``nexa airline``."""
    app.add_typer(airline_app, name="airline")
