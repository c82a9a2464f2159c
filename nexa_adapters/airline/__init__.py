"""Airline adapters: where the manifest comes from (sandbox, PNL/ADL teletype, PSS JSON)."""

from nexa_adapters.airline.providers import (
    PssJsonAirline,
    SandboxAirline,
    TeletypeAirline,
    groups_from_list,
)
from nexa_adapters.airline.teletype import (
    DOCUMENT_SSRS,
    ListedPassenger,
    PassengerList,
    apply_adl,
    parse_teletype,
)

__all__ = [
    "DOCUMENT_SSRS",
    "ListedPassenger",
    "PassengerList",
    "PssJsonAirline",
    "SandboxAirline",
    "TeletypeAirline",
    "apply_adl",
    "groups_from_list",
    "parse_teletype",
]
