"""Every right each regulation grants, at every boundary, with the paragraph that grants it.

One table per regulation: a row is a disruption, a passenger, the rights expected and the
citations expected (each a substring of a citation the preset must print). Texts: ANAC
Resolução nº 400/2016 (DOU 14/12/2016); APPR SOR/2019-150 as amended by SOR/2022-134;
14 CFR 260.6 (89 FR 32832, 89 FR 65536) and the US DOT Airline Customer Service Dashboard;
Regulation (EC) No 261/2004.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from nexa_core.errors import InvalidInputError
from nexa_core.model import Money
from nexa_core.regulation import (
    MAX_DELAY,
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
    anac400,
    appr,
    care_owed,
    domestic_between,
    dot,
    eu261,
)

H = timedelta(hours=1)
M = timedelta(minutes=1)
DAY = timedelta(days=1)
CTRL, SAFE, OUT = (
    ControlCategory.CONTROLLABLE,
    ControlCategory.SAFETY,
    ControlCategory.UNCONTROLLABLE,
)
SMALL = Carrier(size=CarrierSize.SMALL)
ALL_DOT = Carrier(dot_commitments=list(DotCommitment))
REACC, LATER, REFUND, OTHER = (
    OptionKind.REACCOMMODATION,
    OptionKind.REBOOKING_LATER,
    OptionKind.REFUND,
    OptionKind.OTHER_MODE,
)
ANAC_CHOICES = (REACC, LATER, REFUND, OTHER)


@dataclass(frozen=True)
class Row:
    """One case: what goes in, which rights come out, which paragraphs they cite."""

    name: str
    d: Disruption
    f: PassengerFlags = field(default_factory=PassengerFlags)
    care: frozenset[str] = frozenset()  # of meals, hotel, transport, communication
    refund: bool = False
    options: tuple[OptionKind, ...] = ()
    comp: Money | None = None
    cites: tuple[str, ...] = ()  # each must be in some citation (rights, options, deadlines)
    absent: tuple[str, ...] = ()  # none may appear anywhere
    deadlines: tuple[tuple[DeadlineDuty, int], ...] | None = None  # None: not checked


def d(delay: timedelta, **kw: Any) -> Disruption:
    return Disruption(delay, kw.pop("km", 800), **kw)


def flags(**kw: bool) -> PassengerFlags:
    return PassengerFlags(**kw)


def care(*names: str) -> frozenset[str]:
    return frozenset(names)


def every_citation(owed: CareOwed) -> list[str]:
    return [
        *owed.citations,
        *(o.citation for o in owed.options),
        *(x.citation for x in owed.deadlines),
    ]


def check(fn: Callable[[Disruption, PassengerFlags], CareOwed], row: Row) -> None:
    owed = fn(row.d, row.f)
    got = {k for k in ("meals", "hotel", "transport", "communication") if getattr(owed, k)}
    assert got == row.care, row.name
    assert owed.refund is row.refund, row.name
    assert owed.option_kinds == row.options, row.name
    assert owed.compensation == row.comp, row.name
    text = every_citation(owed)
    for needle in row.cites:
        assert any(needle in c for c in text), (row.name, needle, text)
    for needle in row.absent:
        assert not any(needle in c for c in text), (row.name, needle, text)
    if row.deadlines is not None:
        assert tuple((x.duty, x.days) for x in owed.deadlines) == row.deadlines, row.name


# --------------------------------------------------------------------------- ANAC 400

ANAC = [
    Row("1 h exactly: nothing (strictly more than 1 h)", d(1 * H)),
    Row(
        "1 h 1 min: communication",
        d(1 * H + M),
        care=care("communication"),
        cites=("Art. 26, I", "Art. 27, I"),
    ),
    Row("2 h exactly: still no food", d(2 * H), care=care("communication"), absent=("27, II",)),
    Row(
        "2 h 1 min: food",
        d(2 * H + M),
        care=care("communication", "meals"),
        cites=("Art. 27, II",),
    ),
    Row(
        "4 h overnight: no hotel, no choices yet",
        d(4 * H, overnight=True),
        care=care("communication", "meals"),
        absent=("Art. 21", "27, III"),
    ),
    Row(
        "4 h 1 min overnight: hotel, transfer and the Art. 21 choices",
        d(4 * H + M, overnight=True),
        care=care("communication", "meals", "hotel", "transport"),
        options=ANAC_CHOICES,
        cites=("Art. 27, III", "Art. 21, I + Art. 28, I", "Art. 28, II", "Art. 29"),
        deadlines=((DeadlineDuty.REFUND, 7),),
    ),
    Row(
        "4 h 1 min same day: choices but no hotel",
        d(4 * H + M),
        care=care("communication", "meals"),
        options=ANAC_CHOICES,
        absent=("27, III",),
    ),
    Row(
        "resident overnight: transfer instead of a hotel, Art. 27 §1",
        d(6 * H, overnight=True),
        flags(local_resident=True),
        care=care("communication", "meals", "transport"),
        options=ANAC_CHOICES,
        cites=("Art. 27, §1",),
        absent=("§2", "§3"),
    ),
    Row(
        "special assistance: hotel without a night, Art. 27 III and §2",
        d(4 * H + M),
        flags(special_assistance=True),
        care=care("communication", "meals", "hotel", "transport"),
        options=ANAC_CHOICES,
        cites=("Art. 27, III and §2",),
        absent=("§3", "§1"),
    ),
    Row(
        "special assistance at exactly 4 h: no hotel yet",
        d(4 * H),
        flags(special_assistance=True),
        care=care("communication", "meals"),
    ),
    Row(
        "cancellation: the choices at once, Art. 21 II",
        d(timedelta(0), cancelled=True),
        options=ANAC_CHOICES,
        cites=("Art. 21, II + Art. 28, I", "Art. 21, II: the journey by another mode"),
    ),
    Row(
        "cancellation with a 3 h wait: assistance under Art. 26 II",
        d(3 * H, cancelled=True),
        care=care("communication", "meals"),
        options=ANAC_CHOICES,
        cites=("Art. 26, II",),
    ),
    Row(
        "weather: assistance whatever the cause",
        d(3 * H, control=OUT),
        care=care("communication", "meals"),
    ),
    Row(
        "declines after 4 h 1 min: refund within 7 days, assistance may stop (§3)",
        d(4 * H + M),
        flags(declines_alternative=True),
        care=care("communication", "meals"),
        refund=True,
        options=ANAC_CHOICES,
        cites=("Art. 21, I: the passenger declines", "Art. 27, §3", "Art. 29"),
        deadlines=((DeadlineDuty.REFUND, 7),),
    ),
    Row(
        "declines at exactly 4 h: no Art. 21 right yet",
        d(4 * H),
        flags(declines_alternative=True),
        care=care("communication", "meals"),
        absent=("Art. 21",),
    ),
    Row(
        "denied boarding, domestic: 250 SDR at once, Art. 24 I",
        d(timedelta(0), domestic=True),
        flags(denied_boarding=True),
        options=ANAC_CHOICES,
        comp=Money(250, "XDR"),
        cites=("Art. 24, I", "Art. 21, III + Art. 28, I", "Art. 24 (caput): immediately"),
        deadlines=((DeadlineDuty.REFUND, 7), (DeadlineDuty.COMPENSATION, 0)),
    ),
    Row(
        "denied boarding, international, 2 h 30 wait: 500 SDR, Art. 24 II, Art. 26 IV",
        d(2 * H + 30 * M),
        flags(denied_boarding=True),
        care=care("communication", "meals"),
        options=ANAC_CHOICES,
        comp=Money(500, "XDR"),
        cites=("Art. 24, II", "Art. 26, IV"),
    ),
]


@pytest.mark.parametrize("row", ANAC, ids=lambda r: r.name)
def test_anac400(row: Row) -> None:
    check(anac400, row)


# --------------------------------------------------------------------------- APPR

A_I, A_II, A_III = "s. 19(1)(a)(i)", "s. 19(1)(a)(ii)", "s. 19(1)(a)(iii)"
CARE_12 = "s. 12(2)(b) + s. 14(1)(a), (b)"
FOOD = care("meals", "communication")
RE_REF = (REACC, REFUND)

APPR = [
    Row("1 h 59: no standards of treatment", d(2 * H - M)),
    Row("2 h: food, drink, communication", d(2 * H), care=FOOD, cites=(CARE_12,)),
    Row(
        "told 11 h 59 before: care",
        d(2 * H, notice=12 * H - M),
        care=FOOD,
        cites=(CARE_12,),
    ),
    Row(
        "told 12 h before: no care (s. 12(2)(b) needs less than 12 h)",
        d(2 * H, notice=12 * H),
        cites=("s. 12(2)(b): told 12 h before departure",),
        absent=("s. 14(1)",),
    ),
    Row(
        "safety delay: care under s. 11(3)(b), never compensation",
        d(10 * H, control=SAFE, overnight=True),
        care=care("meals", "communication", "hotel", "transport"),
        options=RE_REF,
        cites=("s. 11(3)(b) + s. 14(1)(a), (b)", "s. 11(3)(c) + s. 17(1)(a)", "s. 11: within"),
        absent=("s. 19",),
    ),
    Row(
        "safety cancellation: s. 11(4)",
        d(2 * H, control=SAFE, cancelled=True),
        care=FOOD,
        options=RE_REF,
        cites=("s. 11(4)(b) + s. 14(1)", "s. 11(4)(c) + s. 17(1)(a)", "s. 17(2)"),
    ),
    Row(
        "overnight resident: hotel (s. 14(2) has no resident exception)",
        d(5 * H, overnight=True),
        flags(local_resident=True),
        care=care("meals", "communication", "hotel", "transport"),
        options=RE_REF,
        comp=Money(400, "CAD"),
        cites=("s. 14(2)",),
    ),
    Row("arrival 2 h 59: no compensation", d(2 * H + 59 * M), care=FOOD),
    Row(
        "arrival 3 h: 400 CAD, s. 19(1)(a)(i)",
        d(3 * H),
        care=FOOD,
        options=RE_REF,
        comp=Money(400, "CAD"),
        cites=("s. 12(2)(d) + " + A_I, "s. 12(2)(c) + s. 17(1)(a)"),
        deadlines=((DeadlineDuty.REFUND, 30), (DeadlineDuty.CLAIM_REPLY, 30)),
    ),
    Row(
        "arrival 5 h 59: still 400",
        d(6 * H - M),
        care=FOOD,
        options=RE_REF,
        comp=Money(400, "CAD"),
        cites=(A_I,),
    ),
    Row(
        "arrival 6 h: 700, (a)(ii)",
        d(6 * H),
        care=FOOD,
        options=RE_REF,
        comp=Money(700, "CAD"),
        cites=(A_II,),
    ),
    Row(
        "arrival 8 h 59: 700",
        d(9 * H - M),
        care=FOOD,
        options=RE_REF,
        comp=Money(700, "CAD"),
        cites=(A_II,),
    ),
    Row(
        "arrival 9 h: 1000, (a)(iii)",
        d(9 * H),
        care=FOOD,
        options=RE_REF,
        comp=Money(1000, "CAD"),
        cites=(A_III,),
    ),
    Row(
        "small carrier 3 h: 125, s. 19(1)(b)(i), rebooking s. 17(1)(b)",
        d(3 * H, carrier=SMALL),
        care=FOOD,
        options=RE_REF,
        comp=Money(125, "CAD"),
        cites=("s. 19(1)(b)(i)", "s. 17(1)(b)", "small carrier"),
        absent=("(a)(i)",),
    ),
    Row(
        "small carrier 6 h: 250, (b)(ii)",
        d(6 * H, carrier=SMALL),
        care=FOOD,
        options=RE_REF,
        comp=Money(250, "CAD"),
        cites=("s. 19(1)(b)(ii)",),
    ),
    Row(
        "small carrier 9 h: 500, (b)(iii)",
        d(9 * H, carrier=SMALL),
        care=FOOD,
        options=RE_REF,
        comp=Money(500, "CAD"),
        cites=("s. 19(1)(b)(iii)",),
    ),
    Row(
        "told exactly 14 days before: compensation (14 days or less)",
        d(3 * H, notice=14 * DAY),
        options=RE_REF,
        comp=Money(400, "CAD"),
        cites=(A_I,),
    ),
    Row(
        "told 14 days and 1 min before: no compensation",
        d(3 * H, notice=14 * DAY + M),
        options=RE_REF,
        cites=("s. 12(2)(d): told more than 14 days",),
        absent=("s. 19(1)",),
    ),
    Row(
        "cancellation within control: s. 12(3)",
        d(4 * H, cancelled=True),
        care=FOOD,
        options=RE_REF,
        comp=Money(400, "CAD"),
        cites=("s. 12(3)(b) + s. 14(1)", "s. 12(3)(c) + s. 17(1)(a)", "s. 12(3)(d) + " + A_I),
    ),
    Row(
        "declines at 3 h: refund s. 17(2) and 400 CAD under s. 19(2)(a)",
        d(7 * H),
        flags(declines_alternative=True),
        care=FOOD,
        refund=True,
        options=RE_REF,
        comp=Money(400, "CAD"),
        cites=("s. 17(2): the passenger declines", "s. 19(2)(a)"),
        absent=("s. 19(1)",),
    ),
    Row(
        "declines, small carrier: 125 CAD under s. 19(2)(b)",
        d(3 * H, carrier=SMALL),
        flags(declines_alternative=True),
        care=FOOD,
        refund=True,
        options=RE_REF,
        comp=Money(125, "CAD"),
        cites=("s. 19(2)(b)",),
    ),
    Row(
        "declines at 2 h 59: no refund right yet",
        d(3 * H - M),
        flags(declines_alternative=True),
        care=FOOD,
        absent=("s. 17",),
    ),
    Row(
        "outside control 2 h 59: nothing but the s. 10(3) note",
        d(3 * H - M, control=OUT),
        cites=("s. 10(3): outside",),
        absent=("s. 14", "s. 18"),
    ),
    Row(
        "outside control 3 h: rebooking under s. 10(3)(b) + s. 18(1)(a)",
        d(3 * H, control=OUT),
        options=(REACC,),
        cites=("s. 10(3)(b) + s. 18(1)(a)",),
        absent=("s. 19", "s. 14"),
    ),
    Row(
        "outside control, declines, rebooked at 48 h: no refund",
        d(48 * H, control=OUT, cancelled=True),
        flags(declines_alternative=True),
        options=(REACC,),
        cites=("s. 10(3)(c) + s. 18(1)(a)", "s. 18(1.1): rebooked within 48 h"),
    ),
    Row(
        "outside control, declines, no seat within 48 h: refund (SOR/2022-134)",
        d(48 * H + M, control=OUT, cancelled=True),
        flags(declines_alternative=True),
        refund=True,
        options=(REACC, REFUND),
        cites=("s. 10(3)(c) + s. 18(1.1)", "SOR/2022-134"),
        deadlines=((DeadlineDuty.REFUND, 30),),
    ),
    Row(
        "outside control, small carrier: s. 18(1)(b)",
        d(5 * H, control=OUT, carrier=SMALL),
        options=(REACC,),
        cites=("s. 18(1)(b)",),
    ),
]


@pytest.mark.parametrize("row", APPR, ids=lambda r: r.name)
def test_appr(row: Row) -> None:
    check(appr, row)


def test_appr_never_cites_a_paragraph_14_1_c() -> None:
    for row in APPR:
        assert not any("14(1)(c)" in c for c in every_citation(appr(row.d, row.f)))


# --------------------------------------------------------------------------- DOT

RULE = "14 CFR 260.6(a), (b)(3)"
DASH = "airline commitment on the US DOT dashboard"
MEAL_ONLY = Carrier(dot_commitments=[DotCommitment.MEAL])
HOTELS = Carrier(dot_commitments=[DotCommitment.HOTEL, DotCommitment.GROUND_TRANSPORT])

DOT = [
    Row(
        "domestic 2 h 59, declines: not a significant change",
        d(3 * H - M, domestic=True),
        flags(declines_alternative=True),
        cites=("14 CFR 260.2: under 3 h (domestic)",),
        absent=("260.6",),
    ),
    Row(
        "domestic 3 h, declines: refund",
        d(3 * H, domestic=True),
        flags(declines_alternative=True),
        refund=True,
        options=(REFUND,),
        cites=(RULE, "3 h or more later, domestic", "14 CFR 260.6(b)(3): the passenger rejects"),
        deadlines=((DeadlineDuty.REFUND, 7), (DeadlineDuty.REFUND, 20)),
    ),
    Row(
        "domestic 3 h, accepts: the refund stays a choice",
        d(3 * H, domestic=True),
        options=(REFUND,),
        cites=(RULE,),
    ),
    Row(
        "international 5 h 59, declines: not significant",
        d(6 * H - M),
        flags(declines_alternative=True),
        cites=("under 6 h (international)",),
    ),
    Row(
        "international 6 h, declines: refund",
        d(6 * H),
        flags(declines_alternative=True),
        refund=True,
        options=(REFUND,),
        cites=("6 h or more later, international",),
    ),
    Row(
        "arrival 3 h late after a 1 h departure slip: significant",
        d(1 * H, domestic=True, arrival_delay=3 * H),
        flags(declines_alternative=True),
        refund=True,
        options=(REFUND,),
    ),
    Row(
        "cancelled by weather: refund whatever the cause",
        d(timedelta(0), cancelled=True, control=OUT),
        flags(declines_alternative=True),
        refund=True,
        options=(REFUND,),
        cites=("cancelled flight; whatever the cause", "controllable disruptions only"),
    ),
    Row(
        "no published commitments: no meal, no hotel, said so",
        d(5 * H, overnight=True, domestic=True),
        options=(REFUND,),
        cites=("no commitments recorded",),
        absent=(DASH,),
    ),
    Row("meal commitment at 2 h 59: nothing", d(3 * H - M, carrier=MEAL_ONLY)),
    Row(
        "meal commitment at 3 h: meal, cited as the airline's commitment",
        d(3 * H, carrier=MEAL_ONLY),
        care=care("meals"),
        cites=(DASH + " (voluntary, controllable disruptions): meal",),
    ),
    Row(
        "hotel commitment, 20 min past midnight: no hotel",
        d(20 * M, overnight=True, carrier=HOTELS),
        cites=("applied from a 3 h wait",),
    ),
    Row(
        "hotel commitment, overnight 3 h: hotel and ground transport, residents too",
        d(3 * H, overnight=True, carrier=HOTELS),
        flags(local_resident=True),
        care=care("hotel", "transport"),
        cites=(DASH + " (voluntary, controllable disruptions): complimentary hotel",),
    ),
    Row(
        "safety delay counts as controllable for the dashboard",
        d(4 * H, control=SAFE, carrier=MEAL_ONLY),
        care=care("meals"),
    ),
    Row(
        "weather with every commitment: only the legal refund",
        d(7 * H, overnight=True, control=OUT, carrier=ALL_DOT),
        options=(REFUND,),
        cites=("controllable disruptions only",),
        absent=(DASH,),
    ),
    Row(
        "controllable cancellation with rebooking commitments",
        d(timedelta(0), cancelled=True, carrier=ALL_DOT),
        options=(REFUND, REACC),
        cites=(DASH + " (voluntary, controllable disruptions): rebooking on the same",),
    ),
]


@pytest.mark.parametrize("row", DOT, ids=lambda r: r.name)
def test_dot(row: Row) -> None:
    check(dot, row)


# --------------------------------------------------------------------------- EU261

EU = [
    Row("4 h 59: no reimbursement right", d(5 * H - M), care=FOOD, comp=Money(250, "EUR")),
    Row(
        "5 h: reimbursement, Art. 6(1)(iii) + 8(1)(a), within 7 days",
        d(5 * H),
        care=FOOD,
        options=(REFUND,),
        comp=Money(250, "EUR"),
        cites=("Art. 6(1), (iii) + Art. 8(1)(a)",),
        deadlines=((DeadlineDuty.REFUND, 7),),
    ),
    Row(
        "cancellation: Art. 8(1)(a), (b), (c), declined: reimbursement",
        d(2 * H, cancelled=True),
        flags(declines_alternative=True),
        care=FOOD,
        refund=True,
        options=(REACC, LATER, REFUND),
        comp=Money(125, "EUR"),
        cites=("Art. 5(1)(a) + Art. 8(1)(b)", "Art. 8(1)(c)", "Art. 7(2)"),
    ),
    Row(
        "cancellation told 13 days 23 h ahead: compensated",
        d(3 * H, cancelled=True, notice=14 * DAY - H),
        care=FOOD,
        options=(REACC, LATER, REFUND),
        comp=Money(250, "EUR"),
    ),
    Row(
        "cancellation told two weeks ahead: no compensation, Art. 5(1)(c)(i)",
        d(3 * H, cancelled=True, notice=14 * DAY),
        care=FOOD,
        options=(REACC, LATER, REFUND),
        cites=("Art. 5(1)(c)(i)",),
        absent=("Art. 7(1)",),
    ),
    Row(
        "denied boarding in a storm: still compensated, Art. 4(3)",
        d(1 * H, control=OUT),
        flags(denied_boarding=True),
        care=FOOD,
        options=(REACC, LATER, REFUND),
        comp=Money(125, "EUR"),
        cites=("Art. 4(3) + Art. 7(1)(a)", "Art. 4(3) + Art. 9(1)(a)"),
        absent=("Art. 5(3)",),
    ),
]


@pytest.mark.parametrize("row", EU, ids=lambda r: r.name)
def test_eu261(row: Row) -> None:
    check(eu261, row)


# --------------------------------------------------------------------------- the model


def test_merge_keeps_every_choice_deadline_and_the_refund() -> None:
    both = care_owed(["ANAC400", "DOT"], d(5 * H, domestic=True), flags(declines_alternative=True))
    assert both.refund and both.regulation == "ANAC400+DOT"
    assert both.option_kinds == ANAC_CHOICES
    assert sum(o.kind is REFUND for o in both.options) == 2  # one per regulation, both cited
    assert {x.citation.split(":")[0] for x in both.deadlines} == {
        "ANAC Res. 400 Art. 29",
        "14 CFR 260.6(a)",
    }


@pytest.mark.parametrize(
    "kwargs",
    [
        {"arrival_delay": -M},
        {"arrival_delay": MAX_DELAY + M},
        {"notice": -M},
        {"notice": timedelta(days=366)},
    ],
)
def test_the_library_refuses_negative_or_unbounded_times(kwargs: dict[str, Any]) -> None:
    with pytest.raises(InvalidInputError):
        Disruption(H, 100, **kwargs)


def test_the_delay_cap_is_inclusive() -> None:
    assert Disruption(MAX_DELAY, 100).delay == timedelta(days=30)
    with pytest.raises(InvalidInputError, match="30 days"):
        Disruption(MAX_DELAY + M, 100)


def test_carrier_settings_are_validated() -> None:
    assert Carrier(size="small").size is CarrierSize.SMALL  # type: ignore[arg-type]
    assert Carrier(dot_commitments=["ground-transport"]).dot_commitments == {
        DotCommitment.GROUND_TRANSPORT
    }
    with pytest.raises(InvalidInputError, match="carrier size"):
        Carrier(size="medium")  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="DOT commitment"):
        Carrier(dot_commitments=["LOUNGE"])


@pytest.mark.parametrize(
    ("a", "b", "domestic"),
    [
        ("US", "US", True),
        ("US", "PR", True),
        ("gu", "US", True),
        ("US", "CA", False),
        ("BR", "BR", True),
        ("BR", "AR", False),
    ],
)
def test_domestic_comes_from_the_countries(a: str, b: str, domestic: bool) -> None:
    assert domestic_between(a, b) is domestic


def test_deadlines_count_business_days_mon_to_fri() -> None:
    friday = date(2026, 1, 2)
    card = Deadline(DeadlineDuty.REFUND, 7, "x", "c", business_days=True)
    assert card.due(friday) == date(2026, 1, 13)
    assert Deadline(DeadlineDuty.REFUND, 20, "x", "c").due(friday) == date(2026, 1, 22)
    assert Deadline(DeadlineDuty.COMPENSATION, 0, "x", "c").due(friday) == friday


def test_every_amount_is_an_exact_decimal() -> None:
    owed = appr(d(9 * H, carrier=SMALL), PassengerFlags())
    assert owed.compensation is not None and owed.compensation.amount == Decimal(500)
