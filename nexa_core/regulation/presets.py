"""The regulation presets: EU261, ANAC Res. 400, APPR and the US DOT commitments.

Each preset is a pure function of a :class:`Disruption` and a passenger's
:class:`PassengerFlags` returning :class:`CareOwed` with every granted right cited.
Thresholds follow each text's wording: EU261, APPR and DOT say "two/three hours **or
more**" (inclusive), ANAC Res. 400 says "**superior a**" (strictly more than).
Distances are great-circle kilometres; EU261 bands are "1500 km or less", "more than
1500 up to 3500 km" and "more than 3500 km".
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import attrs

from nexa_core.errors import InvalidInputError
from nexa_core.model import Money, PassengerGroup
from nexa_core.policy.stay import zone
from nexa_core.regulation.model import CareOwed, ControlCategory, Disruption, PassengerFlags
from nexa_core.urn import Urn

__all__ = [
    "PRESETS",
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

_H = timedelta(hours=1)


@attrs.frozen
class RegulationPreset:
    """One regulation: its key, its title and its evaluation function."""

    key: str
    title: str
    evaluate: Callable[[Disruption, PassengerFlags], CareOwed]


# --------------------------------------------------------------------------- EU261


def eu261_band(distance_km: float, *, intra_eu: bool = False) -> int:
    """EU261 distance band: 1 (≤1500 km), 2 (1500–3500 km or intra-EU >1500), 3 (>3500)."""
    if distance_km <= 1500:
        return 1
    if distance_km <= 3500 or intra_eu:
        return 2
    return 3


_EU_CARE_DELAY = {1: 2 * _H, 2: 3 * _H, 3: 4 * _H}
_EU_CARE_CITE = {1: "Art. 6(1)(a)", 2: "Art. 6(1)(b)", 3: "Art. 6(1)(c)"}
_EU_AMOUNT = {1: Decimal(250), 2: Decimal(400), 3: Decimal(600)}
_EU_AMOUNT_CITE = {1: "Art. 7(1)(a)", 2: "Art. 7(1)(b)", 3: "Art. 7(1)(c)"}
_EU_REDUCTION = {1: 2 * _H, 2: 3 * _H, 3: 4 * _H}


def eu261(d: Disruption, f: PassengerFlags) -> CareOwed:
    """Regulation (EC) No 261/2004: care (Art. 6 + 9) and compensation (Art. 5 + 7)."""
    band = eu261_band(d.distance_km, intra_eu=d.intra_eu)
    cites: list[str] = []
    care = d.cancelled or d.delay >= _EU_CARE_DELAY[band]
    if care:
        cites.append(
            "EU261 Art. 5(1)(b) + Art. 9(1)(a), 9(2): meals, refreshments and two calls "
            "(cancellation)"
            if d.cancelled
            else f"EU261 {_EU_CARE_CITE[band]} + Art. 9(1)(a), 9(2): meals, refreshments and "
            f"two calls after a delay of {_EU_CARE_DELAY[band] // _H} h or more "
            f"(band {band})"
        )
    hotel = care and d.overnight and not f.local_resident
    transport = care and d.overnight
    if hotel:
        cites.append("EU261 Art. 9(1)(b), 9(1)(c): hotel and transfer when the stay lasts a night")
    elif transport:
        cites.append("EU261 Art. 9(1)(c): transfer (the passenger lives locally: no hotel)")
    comp: Money | None = None
    arrival = d.effective_arrival_delay
    if d.control is ControlCategory.UNCONTROLLABLE:
        cites.append("EU261 Art. 5(3): extraordinary circumstances, no compensation")
    elif d.cancelled or arrival >= 3 * _H:
        amount = _EU_AMOUNT[band]
        why = f"EU261 {_EU_AMOUNT_CITE[band]}: {amount} EUR"
        if arrival <= _EU_REDUCTION[band]:
            amount = amount / 2
            why += f", reduced 50% by Art. 7(2): arrival delay within {_EU_REDUCTION[band] // _H} h"
        if not d.cancelled:
            why += " (Sturgeon C-402/07: arrival delay of 3 h or more)"
        comp = Money(amount, "EUR")
        cites.append(why)
    return CareOwed(
        "EU261",
        meals=care,
        hotel=hotel,
        transport=transport,
        communication=care,
        compensation=comp,
        citations=tuple(cites),
    )


# --------------------------------------------------------------------------- ANAC


def anac400(d: Disruption, f: PassengerFlags) -> CareOwed:
    """ANAC Resolução nº 400/2016, Art. 27 (material assistance; any cause)."""
    cites: list[str] = []
    comm = d.delay > 1 * _H
    meals = d.delay > 2 * _H
    over4 = d.delay > 4 * _H
    if comm:
        cites.append("ANAC Res. 400 Art. 27, I: communication after more than 1 h")
    if meals:
        cites.append("ANAC Res. 400 Art. 27, II: food after more than 2 h")
    hotel = transport = False
    if over4 and f.special_assistance:
        hotel = transport = True
        cites.append(
            "ANAC Res. 400 Art. 27, III and §3: hotel and transfer for a passenger needing "
            "special assistance (PNAE), overnight or not"
        )
    elif over4 and d.overnight and f.local_resident:
        transport = True
        cites.append(
            "ANAC Res. 400 Art. 27, §2: local resident, transfer home and back instead of a hotel"
        )
    elif over4 and d.overnight:
        hotel = transport = True
        cites.append("ANAC Res. 400 Art. 27, III: hotel and transfer after more than 4 h overnight")
    return CareOwed(
        "ANAC400",
        meals=meals,
        hotel=hotel,
        transport=transport,
        communication=comm,
        citations=tuple(cites),
    )


# --------------------------------------------------------------------------- APPR

_APPR_BANDS = ((9 * _H, Decimal(1000)), (6 * _H, Decimal(700)), (3 * _H, Decimal(400)))


def appr(d: Disruption, f: PassengerFlags) -> CareOwed:
    """Canada's Air Passenger Protection Regulations (SOR/2019-150), large carrier."""
    cites: list[str] = []
    if not d.control.within_carrier_control:
        cites.append("APPR s. 10: outside the carrier's control, no standards of treatment owed")
        return CareOwed("APPR", citations=tuple(cites))
    care = d.delay >= 2 * _H
    if care:
        cites.append("APPR s. 14(1)(a), (c): food, drink and communication after 2 h or more")
    hotel = care and d.overnight and not f.local_resident
    transport = care and d.overnight
    if hotel:
        cites.append("APPR s. 14(2): hotel and transport for an overnight wait")
    elif transport:
        cites.append("APPR s. 14(2): transport (the passenger lives locally: no hotel)")
    comp: Money | None = None
    arrival = d.effective_arrival_delay
    if d.control is ControlCategory.CONTROLLABLE:
        for threshold, amount in _APPR_BANDS:
            if arrival >= threshold:
                comp = Money(amount, "CAD")
                cites.append(
                    f"APPR s. 19(1)(a): {amount} CAD for an arrival delay of "
                    f"{threshold // _H} h or more (large carrier)"
                )
                break
    else:
        cites.append("APPR s. 11: required for safety, no compensation")
    return CareOwed(
        "APPR",
        meals=care,
        hotel=hotel,
        transport=transport,
        communication=care,
        compensation=comp,
        citations=tuple(cites),
    )


# --------------------------------------------------------------------------- DOT


def dot(d: Disruption, f: PassengerFlags) -> CareOwed:
    """US DOT Airline Customer Service Dashboard commitments (controllable only)."""
    if not d.control.within_carrier_control:
        return CareOwed(
            "DOT",
            citations=("US DOT dashboard: commitments cover controllable disruptions only",),
        )
    cites: list[str] = []
    meals = d.delay >= 3 * _H
    if meals:
        cites.append("US DOT dashboard: meal or meal voucher for a delay of 3 h or more")
    hotel = d.overnight and not f.local_resident
    transport = d.overnight
    if hotel:
        cites.append("US DOT dashboard: complimentary hotel and ground transport overnight")
    elif transport:
        cites.append("US DOT dashboard: ground transport overnight (local resident: no hotel)")
    return CareOwed("DOT", meals=meals, hotel=hotel, transport=transport, citations=tuple(cites))


PRESETS: Mapping[str, RegulationPreset] = {
    "EU261": RegulationPreset("EU261", "Regulation (EC) No 261/2004", eu261),
    "ANAC400": RegulationPreset("ANAC400", "ANAC Resolução nº 400/2016", anac400),
    "APPR": RegulationPreset("APPR", "Air Passenger Protection Regulations (SOR/2019-150)", appr),
    "DOT": RegulationPreset("DOT", "US DOT Airline Customer Service commitments", dot),
}


def preset(key: str) -> RegulationPreset:
    """The preset named ``key`` (case-insensitive; ``InvalidInputError`` when unknown)."""
    try:
        return PRESETS[key.upper()]
    except KeyError:
        raise InvalidInputError(
            f"unknown regulation {key!r}; known: {', '.join(PRESETS)}", field="regulation"
        ) from None


def care_owed(
    regulations: Iterable[str], disruption: Disruption, flags: PassengerFlags
) -> CareOwed:
    """The union of what every listed regulation owes one passenger (empty: nothing)."""
    out = CareOwed("")
    for key in regulations:
        out = out.merge(preset(key).evaluate(disruption, flags))
    return out


def disruption_between(
    scheduled: datetime,
    rebooked: datetime,
    *,
    distance_km: float,
    timezone: str,
    control: ControlCategory = ControlCategory.CONTROLLABLE,
    cancelled: bool = False,
    intra_eu: bool = False,
    arrival_delay: timedelta | None = None,
) -> Disruption:
    """A :class:`Disruption` from the scheduled and the rebooked departure.

    ``delay`` is the real elapsed time between them; ``overnight`` means the rebooked
    departure falls on a later local date (in the departure airport's ``timezone``).
    """
    if scheduled.tzinfo is None or rebooked.tzinfo is None:
        raise InvalidInputError("departure times must carry a UTC offset", field="departure")
    tz = zone(timezone)
    delay = max(rebooked.astimezone(UTC) - scheduled.astimezone(UTC), timedelta(0))
    overnight = rebooked.astimezone(tz).date() > scheduled.astimezone(tz).date()
    return Disruption(
        delay=delay,
        distance_km=distance_km,
        control=control,
        overnight=overnight,
        cancelled=cancelled,
        intra_eu=intra_eu,
        arrival_delay=arrival_delay,
    )


def care_for_group(
    regulations: Iterable[str],
    disruption: Disruption,
    group: PassengerGroup,
    *,
    local_resident: bool = False,
) -> dict[Urn, CareOwed]:
    """Care owed to each passenger of a PNR group (URN → care)."""
    keys = tuple(regulations)
    return {
        p.urn: care_owed(keys, disruption, PassengerFlags.of(p, local_resident=local_resident))
        for p in group.passengers
    }
