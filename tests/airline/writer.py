"""Write PNL/ADL teletype text from passenger records (test helper for round trips)."""

from __future__ import annotations

from collections.abc import Iterable

from nexa_adapters.airline.teletype import ListedPassenger
from nexa_core.model import PassengerType

_RBD = "RBD F/F J/JC W/W Y/YBM"


def _lines(passengers: Iterable[ListedPassenger]) -> list[str]:
    out: list[str] = []
    current: tuple[str, str] | None = None
    for p in passengers:
        if p.type is PassengerType.INF:
            continue  # written as the INFT remark of its adult
        if current != (p.destination, p.booking_class):
            current = (p.destination, p.booking_class)
            out.append(f"-{p.destination}001{p.booking_class}")
        out.append(f"1{p.surname}/{p.given}{p.title or ''}")
        out.append(f".L/{p.pnr}")
        if p.email:
            out.append(f".R/CTCE HK1 {p.email.upper().replace('@', '//')}")
        for code in sorted(n.value for n in p.special_needs):
            out.append(f".R/{code} HK1")
        if p.loyalty_tier:
            out.append(f".R/FQTV HK1 LA1234 {p.loyalty_tier}")
    return out


def write_pnl(flight: str, passengers: Iterable[ListedPassenger]) -> str:
    """A one-part PNL (``flight`` like ``LA500/05MAY SCL``)."""
    return "\n".join(["PNL", f"{flight} PART1", _RBD, *_lines(passengers), "ENDPNL"]) + "\n"


def write_adl(
    flight: str,
    *,
    added: Iterable[ListedPassenger] = (),
    deleted: Iterable[ListedPassenger] = (),
    changed: Iterable[ListedPassenger] = (),
) -> str:
    """A one-part ADL with DEL, ADD and CHG sections (empty ones left out)."""
    lines = ["ADL", f"{flight} PART1", _RBD]
    for header, items in (("DEL", deleted), ("ADD", added), ("CHG", changed)):
        body = _lines(items)
        if body:
            lines += [header, *body]
    return "\n".join([*lines, "ENDADL"]) + "\n"
