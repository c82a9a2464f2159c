"""Regulation presets (opt-in per tenant): the care and compensation a disruption owes each
passenger under EU261, Brazil's ANAC Res. 400, Canada's APPR and the US DOT commitments."""

from nexa_core.regulation.model import CareOwed, ControlCategory, Disruption, PassengerFlags
from nexa_core.regulation.presets import (
    PRESETS,
    RegulationPreset,
    anac400,
    appr,
    care_for_group,
    care_owed,
    disruption_between,
    dot,
    eu261,
    eu261_band,
    preset,
)

__all__ = [
    "PRESETS",
    "CareOwed",
    "ControlCategory",
    "Disruption",
    "PassengerFlags",
    "RegulationPreset",
    "anac400",
    "appr",
    "care_for_group",
    "care_owed",
    "disruption_between",
    "dot",
    "eu261",
    "eu261_band",
    "preset",
]
