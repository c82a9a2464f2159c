"""``nexa care`` — what a passenger is owed (``owed``) and the care a case delivered.

``nexa care owed`` evaluates the regulation presets for one passenger; the care delivery
commands (voucher, snapshot, notifications, cards, transfers, dispatch, resend, webhook)
live in :mod:`nexa_cli.commands.care_delivery`.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any

import typer

from nexa_cli._common import emit, handle_errors
from nexa_core.errors import InvalidInputError

#: EU member states (ISO 3166-1 alpha-2) for EU261's intra-Community band
EU_COUNTRIES = frozenset(
    [
        "AT",
        "BE",
        "BG",
        "HR",
        "CY",
        "CZ",
        "DK",
        "EE",
        "FI",
        "FR",
        "DE",
        "GR",
        "HU",
        "IE",
        "IT",
        "LV",
        "LT",
        "LU",
        "MT",
        "NL",
        "PL",
        "PT",
        "RO",
        "SK",
        "SI",
        "ES",
        "SE",
    ]
)

_DURATION = re.compile(r"(?:(\d{1,3})h)?(?:(\d{1,4})m)?")
_CLOCK = re.compile(r"(\d{1,3}):([0-5]\d)")


def parse_duration(text: str) -> timedelta:
    """``5h``, ``90m``, ``2h30m``, ``3:15`` or plain minutes (``150``)."""
    value = text.strip().lower()
    if value.isdigit():
        return timedelta(minutes=int(value))
    m = _CLOCK.fullmatch(value)
    if m:
        return timedelta(hours=int(m.group(1)), minutes=int(m.group(2)))
    m = _DURATION.fullmatch(value)
    if value and m and (m.group(1) or m.group(2)):
        return timedelta(hours=int(m.group(1) or 0), minutes=int(m.group(2) or 0))
    raise InvalidInputError(
        f"cannot read duration {text!r}; use 5h, 90m, 2h30m or 3:15", field="delay"
    )


def _human(d: dict[str, Any]) -> str:
    lines = [
        f"{d['from']} → {d['to']}  {d['distance_km']:.0f} km  delay {d['delay_minutes']} min"
        f"  {d['control']}{'  overnight' if d['overnight'] else ''}"
    ]
    owed = [k for k in ("meals", "hotel", "transport", "communication") if d[k]]
    lines.append(f"owed     {', '.join(owed) if owed else 'nothing'}")
    if d["compensation"]:
        lines.append(f"compensation {d['compensation']}")
    lines.extend(f"  - {c}" for c in d["citations"])
    return "\n".join(lines)


@handle_errors
def care(
    origin: Annotated[str, typer.Option("--from", help="Departure airport (IATA).")],
    destination: Annotated[str, typer.Option("--to", help="Destination airport (IATA).")],
    delay: Annotated[str, typer.Option("--delay", help="Departure delay: 5h, 90m, 2h30m.")],
    regulation: Annotated[
        list[str], typer.Option("--regulation", help="EU261, ANAC400, APPR or DOT (repeatable).")
    ],
    overnight: Annotated[
        bool, typer.Option("--overnight", help="The new departure is on a later day.")
    ] = False,
    control: Annotated[
        str, typer.Option("--control", help="CONTROLLABLE, SAFETY or UNCONTROLLABLE.")
    ] = "CONTROLLABLE",
    cancelled: Annotated[
        bool, typer.Option("--cancelled", help="The flight is cancelled.")
    ] = False,
    arrival_delay: Annotated[
        str | None, typer.Option("--arrival-delay", help="Arrival delay (default: --delay).")
    ] = None,
    resident: Annotated[bool, typer.Option("--resident", help="Passenger lives locally.")] = False,
    special_assistance: Annotated[
        bool, typer.Option("--special-assistance", help="Passenger needs special assistance.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Care and compensation one passenger is owed, with the rule cited."""
    from nexa_adapters.airports import default_catalog
    from nexa_core.regulation import (
        ControlCategory,
        Disruption,
        PassengerFlags,
        care_owed,
    )

    try:
        category = ControlCategory(control.upper())
    except ValueError:
        raise InvalidInputError(
            f"unknown control category {control!r}; use CONTROLLABLE, SAFETY or UNCONTROLLABLE",
            field="control",
        ) from None
    catalog = default_catalog()
    a, b = catalog.get(origin), catalog.get(destination)
    distance = catalog.distance_km(a.iata, b.iata)
    d = Disruption(
        delay=parse_duration(delay),
        distance_km=distance,
        control=category,
        overnight=overnight,
        cancelled=cancelled,
        intra_eu=a.country in EU_COUNTRIES and b.country in EU_COUNTRIES,
        arrival_delay=parse_duration(arrival_delay) if arrival_delay else None,
    )
    owed = care_owed(
        regulation,
        d,
        PassengerFlags(local_resident=resident, special_assistance=special_assistance),
    )
    data = {
        "from": a.iata,
        "to": b.iata,
        "distance_km": round(distance, 1),
        "delay_minutes": int(d.delay.total_seconds() // 60),
        "control": category.value,
        "overnight": overnight,
        "regulations": [r.upper() for r in regulation],
        "meals": owed.meals,
        "hotel": owed.hotel,
        "transport": owed.transport,
        "communication": owed.communication,
        "compensation": str(owed.compensation) if owed.compensation else None,
        "citations": list(owed.citations),
    }
    emit(data, as_json=as_json, human=_human)


care_app = typer.Typer(
    help="Care: what a passenger is owed, and the care a case delivered "
    "(vouchers, messages, meal cards, rides).",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    """Attach ``nexa care`` with ``owed`` and the care delivery commands."""
    from nexa_cli.commands.care_delivery import register_delivery

    care_app.command("owed")(care)
    register_delivery(care_app)
    app.add_typer(care_app, name="care")
