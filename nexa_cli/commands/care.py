"""``nexa care`` — what a passenger is owed (``owed``) and the care a case delivered.

``nexa care owed`` evaluates the regulation presets for one passenger; the care delivery
commands (voucher, snapshot, notifications, cards, transfers, dispatch, resend, webhook)
live in :mod:`nexa_cli.commands.care_delivery`.
"""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
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

_DURATION = re.compile(r"(?:([0-9]+)d)?\s*(?:([0-9]+)h)?\s*(?:([0-9]+)m(?:in)?)?")
_CLOCK = re.compile(r"([0-9]+):([0-5][0-9])")
_MINUTES = re.compile(r"[0-9]+")
_HOURS = re.compile(r"[0-9]{1,6}(?:\.[0-9]{1,4})?")
_DIGITS = 12  # longer numbers are over any cap: refuse them before converting


def parse_duration(text: str, *, field: str = "delay") -> timedelta:
    """``5h``, ``90m``, ``2h30m``, ``1d6h``, ``3:15`` or plain minutes (``150``).

    ASCII digits only; anything longer than :data:`MAX_DELAY` (30 days) is an input error.
    """
    from nexa_core.regulation import MAX_DELAY

    value = text.strip().lower()
    days = hours = minutes = "0"
    if m := _MINUTES.fullmatch(value):
        minutes = m.group(0)
    elif m := _CLOCK.fullmatch(value):
        hours, minutes = m.groups()
    elif (m := _DURATION.fullmatch(value)) and any(m.groups()):
        days, hours, minutes = (g or "0" for g in m.groups())
    else:
        raise InvalidInputError(
            f"cannot read {field.replace('_', ' ')} {text!r}; use 5h, 90m, 2h30m, 1d6h or 3:15",
            field=field,
        )
    cap = int(MAX_DELAY.total_seconds() // 60)
    if (
        any(len(part) > _DIGITS for part in (days, hours, minutes))
        or (total := int(days) * 1440 + int(hours) * 60 + int(minutes)) > cap
    ):
        raise InvalidInputError(
            f"{field.replace('_', ' ')} {text!r} is longer than the {MAX_DELAY.days}-day cap",
            field=field,
        )
    return timedelta(minutes=total)


def parse_notice(text: str) -> timedelta:
    """Hours before the scheduled departure the passengers were told (``36``, ``11.5``)."""
    from nexa_core.regulation import MAX_NOTICE

    value = text.strip()
    if not _HOURS.fullmatch(value):
        raise InvalidInputError(
            f"cannot read notice hours {text!r}; use a number of hours such as 36 or 11.5",
            field="notice_hours",
        )
    hours = Decimal(value)
    if hours > Decimal(int(MAX_NOTICE.total_seconds() // 3600)):
        raise InvalidInputError(
            f"notice hours {text!r} is more than {MAX_NOTICE.days} days", field="notice_hours"
        )
    return timedelta(seconds=int(hours * 3600))


def _human(d: dict[str, Any]) -> str:
    lines = [
        f"{d['from']} → {d['to']}  {d['distance_km']:.0f} km  delay {d['delay_minutes']} min"
        f"  {d['control']}{'  overnight' if d['overnight'] else ''}"
        f"{'  cancelled' if d['cancelled'] else ''}"
        f"  {'domestic' if d['domestic'] else 'international'}"
    ]
    owed = [k for k in ("meals", "hotel", "transport", "communication") if d[k]]
    lines.append(f"owed     {', '.join(owed) if owed else 'nothing'}")
    if d["refund"]:
        lines.append("refund   owed (the passenger declines the alternative)")
    if d["compensation"]:
        lines.append(f"compensation {d['compensation']}")
    if d["options"]:
        kinds = list(dict.fromkeys(o["kind"] for o in d["options"]))
        lines.append(f"options  {', '.join(kinds)}")
        lines.extend(f"  - {o['kind']}: {o['citation']}" for o in d["options"])
    if d["deadlines"]:
        lines.append("deadlines")
        for x in d["deadlines"]:
            cond = f" ({x['condition']})" if x["condition"] else ""
            if x["days"] == 0:
                when = f"immediately on {x['counted_from']}"
            else:
                unit = "business days" if x["business_days"] else "days"
                when = f"within {x['days']} {unit} of {x['counted_from']}"
            lines.append(f"  - {x['duty']} {when}{cond}: {x['citation']}")
    if d["information"]:
        lines.append("inform")
        for i in d["information"]:
            if i["trigger"] == "every":
                when = f"every {i['every_minutes']} min"
            elif i["trigger"] == "on_request":
                when = "on request"
            else:
                when = (
                    "at once" if not i["within_minutes"] else (f"within {i['within_minutes']} min")
                )
            writing = ", in writing" if i["in_writing"] else ""
            lines.append(f"  - {when}{writing}: {i['subject']} ({i['citation']})")
    lines.append("rules")
    lines.extend(f"  - {c}" for c in d["citations"])
    return "\n".join(lines)


def _minutes(value: timedelta) -> int:
    return int(value.total_seconds() // 60)


@handle_errors
def care(
    origin: Annotated[str, typer.Option("--from", help="Departure airport (IATA).")],
    destination: Annotated[str, typer.Option("--to", help="Destination airport (IATA).")],
    delay: Annotated[
        str,
        typer.Option(
            "--delay",
            help="Wait until the passenger leaves: 5h, 90m, 2h30m, 1d6h, 3:15 (at most 30 days).",
        ),
    ],
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
    carrier_size: Annotated[
        str, typer.Option("--carrier-size", help="APPR carrier size: large or small.")
    ] = "large",
    notice_hours: Annotated[
        str | None,
        typer.Option(
            "--notice-hours",
            help="Passengers were told H hours before the scheduled departure (default: at "
            "the airport).",
        ),
    ] = None,
    declines_alternative: Annotated[
        bool,
        typer.Option(
            "--declines-alternative",
            help="The passenger turns down the re-accommodation and wants a refund.",
        ),
    ] = False,
    denied_boarding: Annotated[
        bool, typer.Option("--denied-boarding", help="The passenger was denied boarding.")
    ] = False,
    dot_commitment: Annotated[
        list[str] | None,
        typer.Option(
            "--dot-commitment",
            help="A DOT dashboard commitment this airline has published (repeatable): "
            "REBOOK_SAME_AIRLINE, REBOOK_OTHER_AIRLINE, MEAL, HOTEL, GROUND_TRANSPORT or ALL.",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Care, choices, refund, compensation and information duties one passenger is owed,
    each with the rule cited."""
    from nexa_adapters.airports import default_catalog
    from nexa_core.regulation import (
        Carrier,
        ControlCategory,
        Disruption,
        DotCommitment,
        PassengerFlags,
        care_owed,
        domestic_between,
        information_duties,
    )

    try:
        category = ControlCategory(control.upper())
    except ValueError:
        raise InvalidInputError(
            f"unknown control category {control!r}; use CONTROLLABLE, SAFETY or UNCONTROLLABLE",
            field="control",
        ) from None
    commitments = [c for c in dot_commitment or [] if c.upper() != "ALL"]
    if len(commitments) < len(dot_commitment or []):
        commitments = [c.value for c in DotCommitment]
    carrier = Carrier(size=carrier_size, dot_commitments=commitments)
    catalog = default_catalog()
    a, b = catalog.get(origin), catalog.get(destination)
    distance = catalog.distance_km(a.iata, b.iata)
    notice = parse_notice(notice_hours) if notice_hours is not None else None
    d = Disruption(
        delay=parse_duration(delay),
        distance_km=distance,
        control=category,
        overnight=overnight,
        cancelled=cancelled,
        intra_eu=a.country in EU_COUNTRIES and b.country in EU_COUNTRIES,
        arrival_delay=(
            parse_duration(arrival_delay, field="arrival_delay") if arrival_delay else None
        ),
        domestic=domestic_between(a.country, b.country),
        notice=notice,
        carrier=carrier,
    )
    flags = PassengerFlags(
        local_resident=resident,
        special_assistance=special_assistance,
        declines_alternative=declines_alternative,
        denied_boarding=denied_boarding,
    )
    owed = care_owed(regulation, d, flags)
    duties = information_duties(regulation, d, flags)
    data = {
        "from": a.iata,
        "to": b.iata,
        "distance_km": round(distance, 1),
        "delay_minutes": _minutes(d.delay),
        "arrival_delay_minutes": _minutes(d.effective_arrival_delay),
        "control": category.value,
        "overnight": overnight,
        "cancelled": cancelled,
        "domestic": d.domestic,
        "carrier_size": carrier.size.value,
        "dot_commitments": sorted(c.value for c in carrier.dot_commitments),
        "notice_hours": None if notice is None else notice.total_seconds() / 3600,
        "declines_alternative": declines_alternative,
        "denied_boarding": denied_boarding,
        "regulations": [r.upper() for r in regulation],
        "meals": owed.meals,
        "hotel": owed.hotel,
        "transport": owed.transport,
        "communication": owed.communication,
        "refund": owed.refund,
        "compensation": str(owed.compensation) if owed.compensation else None,
        "options": [{"kind": o.kind.value, "citation": o.citation} for o in owed.options],
        "deadlines": [
            {
                "duty": x.duty.value,
                "days": x.days,
                "business_days": x.business_days,
                "counted_from": x.counted_from,
                "condition": x.condition,
                "citation": x.citation,
            }
            for x in owed.deadlines
        ],
        "information": [
            {
                "regulation": i.regulation,
                "trigger": i.trigger.value,
                "subject": i.subject,
                "every_minutes": _minutes(i.every) if i.every else None,
                "within_minutes": _minutes(i.within),
                "in_writing": i.in_writing,
                "citation": i.citation,
            }
            for i in duties
        ],
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
