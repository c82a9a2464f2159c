"""``nexa rooming`` — the rooms each PNR group of a manifest needs."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from nexa_cli._common import emit, handle_errors, read_document


def _human(d: dict[str, Any]) -> str:
    lines = []
    for g in d["groups"]:
        if g["review"]:
            lines.append(f"{g['group_id']:<10} {g['tier']:<16} needs review: {g['review']}")
            continue
        rooms = ", ".join(
            f"{r['room_type']}×{r['occupants']}"
            + (f"+{r['infants']}INF" if r["infants"] else "")
            + (" accessible" if r["accessible"] else "")
            for r in g["rooms"]
        )
        lines.append(f"{g['group_id']:<10} {g['tier']:<16} {len(g['rooms'])} room(s): {rooms}")
    lines.append(f"total      {d['total_rooms']} room(s) for {d['passengers']} passenger(s)")
    if d["groups_needing_review"]:
        lines.append(f"review     {d['groups_needing_review']} group(s) need a person to decide")
    return "\n".join(lines)


@handle_errors
def rooming(
    pnr_file: Annotated[str, typer.Option("--pnr-file", help="Manifest JSON (groups by PNR).")],
    policy_file: Annotated[
        str | None, typer.Option("--policy", help="Policy file whose room-sharing rules apply.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Plan rooms per PNR group (infants share an adult's bed; premium tiers room alone).

    Groups that cannot room by the rules (children without an adult) are listed for review.
    """
    from nexa_adapters.documents import parse_manifest, parse_policy
    from nexa_core.errors import InvalidInputError
    from nexa_core.model import Tier
    from nexa_core.policy import Policy, PolicyContext
    from nexa_core.rooming import plan_rooms

    manifest = parse_manifest(read_document(pnr_file))
    policy = (
        parse_policy(read_document(policy_file))
        if policy_file
        else Policy("default", PolicyContext(), frozenset(Tier))
    )
    groups = []
    for g in manifest.groups:
        try:
            needs = plan_rooms(g, policy)
        except InvalidInputError as exc:  # e.g. unaccompanied minors: a person decides
            groups.append(
                {
                    "group_id": g.group_id,
                    "pnr": str(g.pnr_urn),
                    "tier": g.tier.value,
                    "rooms": [],
                    "review": str(exc),
                }
            )
            continue
        groups.append(
            {
                "group_id": g.group_id,
                "pnr": str(g.pnr_urn),
                "tier": g.tier.value,
                "review": None,
                "rooms": [
                    {
                        "room_type": n.room_type.value,
                        "tier": n.tier.value,
                        "occupants": n.occupants,
                        "infants": n.infants,
                        "accessible": n.accessible,
                        "passengers": [str(u) for u in n.passenger_urns],
                    }
                    for n in needs
                ],
            }
        )
    data = {
        "groups": groups,
        "total_rooms": sum(len(g["rooms"]) for g in groups),
        "groups_needing_review": sum(1 for g in groups if g["review"]),
        "passengers": manifest.passengers,
    }
    emit(data, as_json=as_json, human=_human)


def register(app: typer.Typer) -> None:
    """Attach ``nexa rooming``."""
    app.command("rooming")(rooming)
