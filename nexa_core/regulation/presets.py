"""The regulation presets: EU261, ANAC Res. 400, APPR and the US DOT rules.

Each preset is a pure function of a :class:`Disruption` (which carries the operating
:class:`Carrier`) and a passenger's :class:`PassengerFlags` returning :class:`CareOwed`
with every granted right cited to its paragraph. Thresholds follow each text's wording:
EU261, APPR and DOT say "two/three hours **or more**" (inclusive), ANAC Res. 400 says
"**superior a**" (strictly more than). Distances are great-circle kilometres; EU261 bands
are "1500 km or less", "more than 1500 up to 3500 km" and "more than 3500 km".
``docs/regulations.md`` lists, per regulation, what is modelled and what is left to the
airline.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import attrs

from nexa_core.errors import InvalidInputError
from nexa_core.model import Money, PassengerGroup
from nexa_core.policy.stay import zone
from nexa_core.regulation.model import (
    CareOwed,
    Carrier,
    CarrierSize,
    ControlCategory,
    Deadline,
    DeadlineDuty,
    Disruption,
    DotCommitment,
    OptionKind,
    PassengerFlags,
    PassengerOption,
)
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
_DAY = timedelta(days=1)


@attrs.frozen
class RegulationPreset:
    """One regulation: its key, its title and its evaluation function."""

    key: str
    title: str
    evaluate: Callable[[Disruption, PassengerFlags], CareOwed]


def _hours(value: timedelta) -> str:
    return f"{value / _H:g} h"


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
    """Regulation (EC) No 261/2004: care (Art. 6 + 9), re-routing or reimbursement (Art. 8)
    and compensation (Art. 4(3), 5 + 7)."""
    band = eu261_band(d.distance_km, intra_eu=d.intra_eu)
    cites: list[str] = []
    denied = f.denied_boarding
    care = d.cancelled or denied or d.delay >= _EU_CARE_DELAY[band]
    if care:
        if denied:
            why = "EU261 Art. 4(3) + Art. 9(1)(a), 9(2): meals, refreshments and two calls (denied boarding)"
        elif d.cancelled:
            why = (
                "EU261 Art. 5(1)(b) + Art. 9(1)(a), 9(2): meals, refreshments and two calls "
                "(cancellation)"
            )
        else:
            why = (
                f"EU261 {_EU_CARE_CITE[band]}, (i) + Art. 9(1)(a), 9(2): meals, refreshments and "
                f"two calls after a delay of {_EU_CARE_DELAY[band] // _H} h or more (band {band})"
            )
        cites.append(why)
    hotel = care and d.overnight and not f.local_resident
    transport = care and d.overnight
    stay = "Art. 4(3)" if denied else "Art. 5(1)(b)" if d.cancelled else "Art. 6(1), (ii)"
    if hotel:
        cites.append(
            f"EU261 {stay} + Art. 9(1)(b), 9(1)(c): hotel and transfer when the stay lasts a night"
        )
    elif transport:
        cites.append(
            f"EU261 {stay} + Art. 9(1)(c): transfer (the passenger lives locally: no hotel)"
        )

    options: list[PassengerOption] = []
    basis = ""
    if denied:
        basis = "Art. 4(3)"
    elif d.cancelled:
        basis = "Art. 5(1)(a)"
    if basis:
        options += [
            PassengerOption(
                OptionKind.REACCOMMODATION,
                f"EU261 {basis} + Art. 8(1)(b): re-routing to the final destination at the "
                "earliest opportunity",
            ),
            PassengerOption(
                OptionKind.REBOOKING_LATER,
                f"EU261 {basis} + Art. 8(1)(c): re-routing at a later date at the passenger's "
                "convenience, subject to seats",
            ),
            PassengerOption(
                OptionKind.REFUND,
                f"EU261 {basis} + Art. 8(1)(a): reimbursement of the ticket within 7 days "
                "(with a return flight to the first point of departure when relevant)",
            ),
        ]
    elif d.delay >= 5 * _H:
        basis = "Art. 6(1), (iii)"
        options.append(
            PassengerOption(
                OptionKind.REFUND,
                f"EU261 {basis} + Art. 8(1)(a): reimbursement of the ticket within 7 days "
                "when the delay is at least 5 h",
            )
        )
    refund = f.declines_alternative and bool(options)
    if refund:
        cites.append(f"EU261 {basis} + Art. 8(1)(a): the passenger declines: reimbursement")
    deadlines = (
        (
            Deadline(
                DeadlineDuty.REFUND,
                7,
                "the passenger's reimbursement request",
                "EU261 Art. 8(1)(a)",
            ),
        )
        if options
        else ()
    )

    comp: Money | None = None
    arrival = d.effective_arrival_delay
    if denied:
        comp = _eu_amount(band, arrival, cites, "Art. 4(3) + ", sturgeon=False)
    elif d.control is ControlCategory.UNCONTROLLABLE:
        cites.append("EU261 Art. 5(3): extraordinary circumstances, no compensation")
    elif d.cancelled and d.effective_notice >= 14 * _DAY:
        cites.append("EU261 Art. 5(1)(c)(i): told at least two weeks ahead, no compensation")
    elif d.cancelled or arrival >= 3 * _H:
        comp = _eu_amount(band, arrival, cites, "", sturgeon=not d.cancelled)
    return CareOwed(
        "EU261",
        meals=care,
        hotel=hotel,
        transport=transport,
        communication=care,
        compensation=comp,
        citations=tuple(cites),
        refund=refund,
        options=tuple(options),
        deadlines=deadlines,
    )


def _eu_amount(
    band: int, arrival: timedelta, cites: list[str], prefix: str, *, sturgeon: bool
) -> Money:
    amount = _EU_AMOUNT[band]
    why = f"EU261 {prefix}{_EU_AMOUNT_CITE[band]}: {amount} EUR"
    if arrival <= _EU_REDUCTION[band]:
        amount = amount / 2
        why += f", reduced 50% by Art. 7(2): arrival delay within {_EU_REDUCTION[band] // _H} h"
    if sturgeon:
        why += " (Sturgeon C-402/07: arrival delay of 3 h or more)"
    cites.append(why)
    return Money(amount, "EUR")


# --------------------------------------------------------------------------- ANAC

_ANAC = "ANAC Res. 400"
_ANAC_SDR = {
    True: (Decimal(250), "I", "a domestic"),
    False: (Decimal(500), "II", "an international"),
}


def anac400(d: Disruption, f: PassengerFlags) -> CareOwed:
    """ANAC Resolução nº 400/2016: material assistance (Arts. 26-27, any cause), the
    passenger's choices (Arts. 21, 28, 29) and denied-boarding compensation (Art. 24)."""
    cites: list[str] = []
    denied = f.denied_boarding
    if d.cancelled:
        inciso, what = "II", "cancellation"
    elif denied:
        inciso, what = "IV", "denied boarding"
    else:
        inciso, what = "I", "delay"

    comm = d.delay > 1 * _H
    meals = d.delay > 2 * _H
    over4 = d.delay > 4 * _H
    if comm:
        cites.append(
            f"{_ANAC} Art. 26, {inciso}: material assistance for the {what}, whatever the cause"
        )
        cites.append(f"{_ANAC} Art. 27, I: communication after more than 1 h of waiting")
    if meals:
        cites.append(f"{_ANAC} Art. 27, II: food after more than 2 h of waiting")
    hotel = transport = False
    if over4 and f.special_assistance:
        hotel = transport = True
        cites.append(
            f"{_ANAC} Art. 27, III and §2: hotel and transfer for a passenger needing "
            "special assistance (PNAE) and companions, overnight or not"
        )
    elif over4 and d.overnight and f.local_resident:
        transport = True
        cites.append(
            f"{_ANAC} Art. 27, §1: resident of the origin airport's locality, transfer home "
            "and back instead of a hotel"
        )
    elif over4 and d.overnight:
        hotel = transport = True
        cites.append(f"{_ANAC} Art. 27, III: hotel and transfer after more than 4 h overnight")

    trigger = ""
    if d.cancelled:
        trigger = "Art. 21, II"
    elif denied:
        trigger = "Art. 21, III"
    elif over4:
        trigger = "Art. 21, I"
    options: tuple[PassengerOption, ...] = ()
    deadlines: list[Deadline] = []
    refund = False
    if trigger:
        options = (
            PassengerOption(
                OptionKind.REACCOMMODATION,
                f"{_ANAC} {trigger} + Art. 28, I: re-accommodation on a flight of the carrier "
                "or another carrier to the same destination at the first opportunity, free",
            ),
            PassengerOption(
                OptionKind.REBOOKING_LATER,
                f"{_ANAC} {trigger} + Art. 28, II: a flight of the carrier on a date and time "
                "of the passenger's choosing, free",
            ),
            PassengerOption(
                OptionKind.REFUND,
                f"{_ANAC} {trigger} + Art. 29: full refund, within 7 days of the request",
            ),
            PassengerOption(
                OptionKind.OTHER_MODE,
                f"{_ANAC} {trigger}: the journey by another mode of transport",
            ),
        )
        deadlines.append(
            Deadline(DeadlineDuty.REFUND, 7, "the passenger's refund request", f"{_ANAC} Art. 29")
        )
        if f.declines_alternative:
            refund = True
            cites.append(
                f"{_ANAC} {trigger}: the passenger declines re-accommodation: full refund "
                "(or another mode of transport), the passenger's choice"
            )
            cites.append(
                f"{_ANAC} Art. 27, §3: once the passenger opts for the refund, the carrier may "
                "stop material assistance"
            )

    comp: Money | None = None
    if denied:
        amount, inciso, scope = _ANAC_SDR[d.domestic]
        comp = Money(amount, "XDR")
        cites.append(
            f"{_ANAC} Art. 24, {inciso}: {amount} SDR (XDR) for denied boarding on {scope} "
            "flight, paid at once by bank transfer, voucher or cash, on top of the Art. 21 "
            "choices"
        )
        deadlines.append(
            Deadline(
                DeadlineDuty.COMPENSATION,
                0,
                "the denial of boarding",
                f"{_ANAC} Art. 24 (caput): immediately",
            )
        )
    return CareOwed(
        "ANAC400",
        meals=meals,
        hotel=hotel,
        transport=transport,
        communication=comm,
        compensation=comp,
        citations=tuple(cites),
        refund=refund,
        options=options,
        deadlines=tuple(deadlines),
    )


# --------------------------------------------------------------------------- APPR

#: s. 19(1): (arrival delay from, amount large (a), amount small (b), sub-paragraph)
_APPR_BANDS = (
    (9 * _H, Decimal(1000), Decimal(500), "iii"),
    (6 * _H, Decimal(700), Decimal(250), "ii"),
    (3 * _H, Decimal(400), Decimal(125), "i"),
)
_APPR_REFUND_COMP = {CarrierSize.LARGE: (Decimal(400), "a"), CarrierSize.SMALL: (Decimal(125), "b")}
_APPR_CARE_NOTICE = timedelta(hours=12)  # "less than 12 hours before" (11(3)(b), 12(2)(b))
_APPR_COMP_NOTICE = timedelta(days=14)  # "14 days or less before" (12(2)(d), 12(3)(d))
_APPR_REBOOK_LIMIT = timedelta(hours=48)  # s. 18(1.1)


def appr(d: Disruption, f: PassengerFlags) -> CareOwed:
    """Canada's Air Passenger Protection Regulations (SOR/2019-150, as amended by
    SOR/2022-134): standards of treatment (s. 14), rebooking or refund (ss. 17, 18) and
    compensation (s. 19), by cause (ss. 10, 11, 12), notice and carrier size."""
    size = d.carrier.size
    large = size is CarrierSize.LARGE
    cites: list[str] = []
    notice = d.effective_notice
    cancel = d.cancelled
    if d.control is ControlCategory.UNCONTROLLABLE:
        rebook_par = "s. 10(3)(c)" if cancel else "s. 10(3)(b)"
        care_par = comp_par = ""
    elif d.control is ControlCategory.SAFETY:
        rebook_par = "s. 11(4)(c)" if cancel else "s. 11(3)(c)"
        care_par = "s. 11(4)(b)" if cancel else "s. 11(3)(b)"
        comp_par = ""
    else:
        rebook_par = "s. 12(3)(c)" if cancel else "s. 12(2)(c)"
        care_par = "s. 12(3)(b)" if cancel else "s. 12(2)(b)"
        comp_par = "s. 12(3)(d)" if cancel else "s. 12(2)(d)"

    # standards of treatment (s. 14): within the carrier's control, told < 12 h before
    care = False
    if not care_par:
        cites.append(
            "APPR s. 10(3): outside the carrier's control: no standards of treatment and no "
            "compensation"
        )
    elif d.delay >= 2 * _H and notice >= _APPR_CARE_NOTICE:
        cites.append(
            f"APPR {care_par}: told {_hours(notice)} before departure (12 h or more): no "
            "standards of treatment"
        )
    elif d.delay >= 2 * _H:
        care = True
        cites.append(
            f"APPR {care_par} + s. 14(1)(a), (b): food and drink and access to a means of "
            "communication after a wait of 2 h or more"
        )
    hotel = transport = care and d.overnight
    if hotel:
        cites.append(
            "APPR s. 14(2): hotel or comparable accommodation and transport to it and back, "
            "for an overnight wait (residents included)"
        )

    # rebooking or refund (ss. 17, 18): a delay of 3 h or more, or a cancellation
    options: list[PassengerOption] = []
    refund = False
    deadlines: list[Deadline] = []
    if cancel or d.delay >= 3 * _H:
        if care_par:  # within the carrier's control: s. 17
            rebook = (
                "s. 17(1)(a): confirmed reservation on the next available flight (own or "
                "partner within 9 h, any carrier within 48 h, or from another nearby airport)"
                if large
                else "s. 17(1)(b): confirmed reservation on the next available flight of the "
                "carrier or a partner"
            )
            options.append(
                PassengerOption(OptionKind.REACCOMMODATION, f"APPR {rebook_par} + {rebook}")
            )
            options.append(
                PassengerOption(
                    OptionKind.REFUND,
                    f"APPR {rebook_par} + s. 17(2): refund when the alternate arrangements do "
                    "not meet the passenger's travel needs (with a flight back to the origin "
                    "when the trip no longer serves a purpose)",
                )
            )
            refund = f.declines_alternative
            if refund:
                cites.append("APPR s. 17(2): the passenger declines the alternative: refund")
        else:  # outside the carrier's control: s. 18 (SOR/2022-134)
            rebook = (
                "s. 18(1)(a): confirmed reservation on the next available flight (own or "
                "partner, otherwise any carrier)"
                if large
                else "s. 18(1)(b): confirmed reservation on the next available flight of the "
                "carrier or a partner"
            )
            options.append(
                PassengerOption(OptionKind.REACCOMMODATION, f"APPR {rebook_par} + {rebook}")
            )
            if d.delay > _APPR_REBOOK_LIMIT:
                options.append(
                    PassengerOption(
                        OptionKind.REFUND,
                        f"APPR {rebook_par} + s. 18(1.1): no confirmed reservation departing "
                        "within 48 h of the original departure: refund, the passenger's choice",
                    )
                )
                refund = f.declines_alternative
                if refund:
                    cites.append("APPR s. 18(1.1): the passenger declines the rebooking: refund")
            elif f.declines_alternative:
                cites.append(
                    "APPR s. 18(1.1): rebooked within 48 h of the original departure: no refund "
                    "owed outside the carrier's control"
                )
        if any(o.kind is OptionKind.REFUND for o in options):
            deadlines.append(
                Deadline(
                    DeadlineDuty.REFUND,
                    30,
                    "the passenger's choice of a refund",
                    "APPR ss. 17-18 as amended by SOR/2022-134: refund within 30 days",
                )
            )

    # compensation (s. 19): within the carrier's control, not for safety, told ≤ 14 days
    comp: Money | None = None
    if d.control is ControlCategory.SAFETY:
        cites.append(
            "APPR s. 11: within the carrier's control but required for safety: no compensation"
        )
    elif comp_par and notice > _APPR_COMP_NOTICE:
        cites.append(f"APPR {comp_par}: told more than 14 days before departure: no compensation")
    elif comp_par and refund:
        amount, letter = _APPR_REFUND_COMP[size]
        comp = Money(amount, "CAD")
        cites.append(
            f"APPR {comp_par} + s. 19(2)({letter}): {amount} CAD when the ticket is refunded "
            f"under s. 17(2) ({size.value.lower()} carrier)"
        )
    elif comp_par:
        arrival = d.effective_arrival_delay
        for threshold, amount_large, amount_small, sub in _APPR_BANDS:
            if arrival >= threshold:
                amount = amount_large if large else amount_small
                comp = Money(amount, "CAD")
                cites.append(
                    f"APPR {comp_par} + s. 19(1)({'a' if large else 'b'})({sub}): {amount} CAD "
                    f"for an arrival delay of {threshold // _H} h or more "
                    f"({size.value.lower()} carrier)"
                )
                break
    if comp is not None:
        deadlines.append(
            Deadline(
                DeadlineDuty.CLAIM_REPLY,
                30,
                "the passenger's compensation request (filed within 1 year, s. 19(3))",
                "APPR s. 19(4): pay or explain within 30 days",
            )
        )
    if f.denied_boarding:
        cites.append(
            "APPR s. 20: denied-boarding compensation is not evaluated here (left to the airline)"
        )
    return CareOwed(
        "APPR",
        meals=care,
        hotel=hotel,
        transport=transport,
        communication=care,
        compensation=comp,
        citations=tuple(cites),
        refund=refund,
        options=tuple(options),
        deadlines=tuple(deadlines),
    )


# --------------------------------------------------------------------------- DOT

_DOT_WAIT = 3 * _H  # the dashboard's "waiting 3 hours or more"
_DASHBOARD = "airline commitment on the US DOT dashboard (voluntary, controllable disruptions)"


def dot(d: Disruption, f: PassengerFlags) -> CareOwed:
    """US DOT: the binding refund of 14 CFR 260.6 (any cause) plus the commitments this
    airline has published on the DOT customer service dashboard (controllable only)."""
    cites: list[str] = []
    options: list[PassengerOption] = []
    deadlines: list[Deadline] = []
    threshold = 3 * _H if d.domestic else 6 * _H
    scope = "domestic" if d.domestic else "international"
    changed = d.delay >= threshold or d.effective_arrival_delay >= threshold
    refund = False
    if d.cancelled or changed:
        what = (
            "cancelled flight"
            if d.cancelled
            else f"significant change: departure or arrival {threshold // _H} h or more later, "
            f"{scope}"
        )
        options.append(
            PassengerOption(
                OptionKind.REFUND,
                f"14 CFR 260.6(a), (b)(3): refund of the airfare, taxes and carrier charges when "
                f"the passenger rejects the alternative ({what}; whatever the cause)",
            )
        )
        deadlines += [
            Deadline(
                DeadlineDuty.REFUND,
                7,
                "the passenger's rejection of the alternative",
                "14 CFR 260.6(a): prompt refund, 7 business days for card payments",
                business_days=True,
                condition="paid by credit card",
            ),
            Deadline(
                DeadlineDuty.REFUND,
                20,
                "the passenger's rejection of the alternative",
                "14 CFR 260.6(a): prompt refund, 20 calendar days for other payments",
                condition="paid otherwise",
            ),
        ]
        if f.declines_alternative:
            refund = True
            cites.append("14 CFR 260.6(b)(3): the passenger rejects the alternative: refund")
    elif f.declines_alternative:
        cites.append(
            f"14 CFR 260.2: under {threshold // _H} h ({scope}) the change is not significant: "
            "no refund owed by law"
        )

    meals = hotel = transport = False
    commitments = d.carrier.dot_commitments
    if not d.control.within_carrier_control:
        cites.append("US DOT dashboard: airline commitments cover controllable disruptions only")
    elif not commitments:
        if d.delay >= _DOT_WAIT or d.overnight:
            cites.append(
                "US DOT dashboard: no commitments recorded for this airline (Carrier."
                "dot_commitments); nothing beyond the law is applied"
            )
    else:
        waited = d.delay >= _DOT_WAIT
        if DotCommitment.REBOOK_SAME_AIRLINE in commitments and (d.cancelled or waited):
            options.append(
                PassengerOption(
                    OptionKind.REACCOMMODATION,
                    f"{_DASHBOARD}: rebooking on the same airline at no additional cost",
                )
            )
        if DotCommitment.REBOOK_OTHER_AIRLINE in commitments and (d.cancelled or waited):
            options.append(
                PassengerOption(
                    OptionKind.REACCOMMODATION,
                    f"{_DASHBOARD}: rebooking on a partner or other airline at no additional cost",
                )
            )
        meals = DotCommitment.MEAL in commitments and waited
        if meals:
            cites.append(f"{_DASHBOARD}: meal or meal voucher when waiting 3 h or more")
        hotel = DotCommitment.HOTEL in commitments and d.overnight and waited
        transport = DotCommitment.GROUND_TRANSPORT in commitments and d.overnight and waited
        if hotel:
            cites.append(f"{_DASHBOARD}: complimentary hotel for any passenger affected overnight")
        if transport:
            cites.append(f"{_DASHBOARD}: ground transportation to and from the hotel")
        if (
            d.overnight
            and not waited
            and commitments
            & {
                DotCommitment.HOTEL,
                DotCommitment.GROUND_TRANSPORT,
            }
        ):
            cites.append(
                f"{_DASHBOARD}: an overnight hotel is applied from a 3 h wait (shorter slips "
                "past midnight earn none)"
            )
    if f.denied_boarding:
        cites.append(
            "14 CFR part 250: denied-boarding compensation is not evaluated here (left to the "
            "airline)"
        )
    return CareOwed(
        "DOT",
        meals=meals,
        hotel=hotel,
        transport=transport,
        compensation=None,
        citations=tuple(cites),
        refund=refund,
        options=tuple(options),
        deadlines=tuple(deadlines),
    )


PRESETS: Mapping[str, RegulationPreset] = {
    "EU261": RegulationPreset("EU261", "Regulation (EC) No 261/2004", eu261),
    "ANAC400": RegulationPreset("ANAC400", "ANAC Resolução nº 400/2016", anac400),
    "APPR": RegulationPreset("APPR", "Air Passenger Protection Regulations (SOR/2019-150)", appr),
    "DOT": RegulationPreset(
        "DOT", "US DOT: 14 CFR 260.6 refunds and the airline's dashboard commitments", dot
    ),
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
    """The union of what every listed regulation owes one passenger (empty: nothing).

    Pure, so memoised: the passengers of one flight share a disruption and mostly share
    their flags, and each distinct combination is evaluated once.
    """
    return _care_owed(tuple(preset(k).key for k in regulations), disruption, flags)


@functools.lru_cache(maxsize=4096)
def _care_owed(keys: tuple[str, ...], disruption: Disruption, flags: PassengerFlags) -> CareOwed:
    out = CareOwed("")
    for key in keys:
        out = out.merge(PRESETS[key].evaluate(disruption, flags))
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
    domestic: bool = False,
    notice: timedelta | None = None,
    carrier: Carrier | None = None,
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
        domestic=domestic,
        notice=notice,
        carrier=carrier or Carrier(),
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
