"""``nexa allocate`` — rooming, ranking and assignment offline (nothing is booked)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from nexa_cli._common import emit, handle_errors, read_document


def _human(doc: dict[str, Any]) -> str:
    t = doc["totals"]
    lines = [
        f"airport {doc['airport']}  solver {doc['solver']}",
        f"groups {t['groupsAssigned']}/{t['groups']} assigned  "
        f"passengers {t['passengersAssigned']}/{t['passengers']}  "
        f"weighted coverage {t['weightedCoverage']:g}/{t['weightedDemand']:g} "
        f"({t['coverageRatio']:.1%})",
        f"cost {t['totalCost']} {t['currency']} (rooms {t['roomCost']}, distance "
        f"{t['distanceCost']}, hotels {t['fixedCost']})  rooms {t['rooms']}  "
        f"hotels {t['hotelsUsed']}  savings vs market {doc['savingsVsMarket'] or 'unknown'}",
        "",
        "assignments:",
    ]
    for a in doc["assignments"]:
        rooms = ", ".join(r["roomType"] + ("(acc)" if r["accessible"] else "") for r in a["rooms"])
        lines.append(
            f"  {a['groupId']:<12} {a['tier']:<16} {a['passengers']:>2} pax  "
            f"{a['hotelUrn']}  [{rooms}]  {a['roomCost']}"
        )
    if doc["unassigned"]:
        lines.append("unassigned:")
        for u in doc["unassigned"]:
            lines.append(
                f"  {u['groupId']:<12} {u['tier']:<16} {u['passengers']:>2} pax  {u['reason']}"
            )
    return "\n".join(lines)


@handle_errors
def allocate_command(
    manifest: Annotated[
        str, typer.Option("--manifest", help="Manifest JSON (nexa schema manifest).")
    ],
    inventory: Annotated[
        str, typer.Option("--inventory", help="Inventory JSON/YAML (nexa schema inventory).")
    ],
    policy: Annotated[str, typer.Option("--policy", help="Policy YAML/JSON (nexa schema policy).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the plan as JSON.")] = False,
    exact: Annotated[
        bool, typer.Option("--exact", help="Use the HiGHS solver (needs the 'solver' extra).")
    ] = False,
    nights: Annotated[
        int | None, typer.Option("--nights", min=1, help="Nights (default: the inventory's).")
    ] = None,
) -> None:
    """Plan rooms, rank hotels per tier and assign every PNR group; print plan and totals."""
    from nexa_adapters.documents.inventory import parse_inventory
    from nexa_adapters.documents.manifest import parse_manifest
    from nexa_adapters.documents.policy import parse_policy
    from nexa_adapters.sandbox.inventory import airport as lookup_airport
    from nexa_core.allocation import allocate_groups, plan_document
    from nexa_core.hotels import dedup_offers

    m = parse_manifest(read_document(manifest))
    offers = dedup_offers(parse_inventory(read_document(inventory))).offers
    pol = parse_policy(read_document(policy))
    solver = None
    if exact:
        from nexa_adapters.solvers.highs import HighsSolver

        solver = HighsSolver()
    plan = allocate_groups(
        m.groups, offers, pol, lookup_airport(m.airport_urn.id), nights=nights, solver=solver
    )
    doc = plan_document(plan)
    emit(doc, as_json=as_json, human=_human)


def register(app: typer.Typer) -> None:
    """Attach ``nexa allocate``."""
    app.command("allocate")(allocate_command)
