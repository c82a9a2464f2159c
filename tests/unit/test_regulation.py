"""Regulation presets at their boundaries (2 h / 3 h / 4 h, 1500 km / 3500 km)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from nexa_core.errors import InvalidInputError
from nexa_core.geo import haversine_km
from nexa_core.model import Money, SpecialNeed
from nexa_core.regulation import (
    Carrier,
    ControlCategory,
    Disruption,
    DotCommitment,
    OptionKind,
    PassengerFlags,
    care_owed,
    eu261,
    eu261_band,
    preset,
)
from nexa_core.regulation.presets import anac400, appr, dot
from nexa_core.testing.builders import make_passenger

H = timedelta(hours=1)
M = timedelta(minutes=1)
PAX = PassengerFlags()


@pytest.mark.parametrize(
    ("km", "band"),
    [(0, 1), (1500, 1), (1500.001, 2), (3500, 2), (3500.001, 3), (9000, 3)],
)
def test_eu261_distance_bands_include_their_upper_bound(km: float, band: int) -> None:
    assert eu261_band(km) == band


def test_eu261_intra_eu_flights_over_1500_km_stay_in_band_two() -> None:
    assert eu261_band(4000, intra_eu=True) == 2


@pytest.mark.parametrize(
    ("km", "threshold"),
    [(1500, 2 * H), (1500.5, 3 * H), (3500, 3 * H), (3500.5, 4 * H)],
)
def test_eu261_care_starts_exactly_at_the_band_threshold(km: float, threshold: timedelta) -> None:
    at = eu261(Disruption(threshold, km), PAX)
    before = eu261(Disruption(threshold - M, km), PAX)
    assert at.meals and at.communication
    assert not before.meals and not before.communication
    assert any("Art. 6(1)" in c for c in at.citations)


def test_eu261_hotel_and_transfer_only_when_the_departure_moves_to_the_next_day() -> None:
    same_day = eu261(Disruption(5 * H, 1000), PAX)
    overnight = eu261(Disruption(5 * H, 1000, overnight=True), PAX)
    assert not same_day.hotel and not same_day.transport
    assert overnight.hotel and overnight.transport
    assert any("Art. 9(1)(b)" in c for c in overnight.citations)


@pytest.mark.parametrize(("km", "amount"), [(1500, 250), (1501, 400), (3500, 400), (3501, 600)])
def test_eu261_compensation_bands(km: float, amount: int) -> None:
    owed = eu261(Disruption(5 * H, km), PAX)
    assert owed.compensation == Money(Decimal(amount), "EUR")


def test_eu261_compensation_needs_three_hours_arrival_delay() -> None:
    assert eu261(Disruption(3 * H - M, 1000), PAX).compensation is None
    assert eu261(Disruption(3 * H, 1000), PAX).compensation == Money(250, "EUR")


@pytest.mark.parametrize(
    ("km", "limit", "full"), [(1000, 2 * H, 250), (2000, 3 * H, 400), (5000, 4 * H, 600)]
)
def test_eu261_compensation_is_halved_when_rerouted_arrival_is_within_the_limit(
    km: float, limit: timedelta, full: int
) -> None:
    at_limit = eu261(Disruption(6 * H, km, cancelled=True, arrival_delay=limit), PAX)
    over = eu261(Disruption(6 * H, km, cancelled=True, arrival_delay=limit + M), PAX)
    assert at_limit.compensation == Money(Decimal(full) / 2, "EUR")
    assert over.compensation == Money(full, "EUR")
    assert any("Art. 7(2)" in c for c in at_limit.citations)


def test_eu261_extraordinary_circumstances_keep_care_but_drop_compensation() -> None:
    owed = eu261(Disruption(6 * H, 800, ControlCategory.UNCONTROLLABLE, overnight=True), PAX)
    assert owed.meals and owed.hotel and owed.compensation is None
    assert any("Art. 5(3)" in c for c in owed.citations)


def test_eu261_cancellation_owes_care_regardless_of_delay() -> None:
    assert eu261(Disruption(timedelta(0), 800, cancelled=True), PAX).meals


@pytest.mark.parametrize(
    ("delay", "comm", "meals"),
    [
        (1 * H, False, False),
        (1 * H + M, True, False),
        (2 * H, True, False),
        (2 * H + M, True, True),
    ],
)
def test_anac_thresholds_are_strictly_more_than(delay: timedelta, comm: bool, meals: bool) -> None:
    owed = anac400(Disruption(delay, 500), PAX)
    assert (owed.communication, owed.meals) == (comm, meals)


def test_anac_hotel_after_more_than_four_hours_overnight() -> None:
    assert not anac400(Disruption(4 * H, 500, overnight=True), PAX).hotel
    owed = anac400(Disruption(4 * H + M, 500, overnight=True), PAX)
    assert owed.hotel and owed.transport
    assert not anac400(Disruption(4 * H + M, 500), PAX).hotel


def test_anac_local_resident_gets_a_transfer_instead_of_a_hotel() -> None:
    owed = anac400(Disruption(6 * H, 500, overnight=True), PassengerFlags(local_resident=True))
    assert owed.transport and not owed.hotel
    # the resident rule is Art. 27, §1 (§2 is the special-assistance rule)
    assert any("Art. 27, §1" in c for c in owed.citations)
    assert not any("§2" in c for c in owed.citations)


def test_anac_special_assistance_gets_a_hotel_even_without_overnight() -> None:
    flags = PassengerFlags.of(make_passenger(needs=frozenset({SpecialNeed.WCHR})))
    owed = anac400(Disruption(4 * H + M, 500), flags)
    assert flags.special_assistance and owed.hotel and owed.transport


def test_anac_applies_whatever_the_cause() -> None:
    assert anac400(Disruption(3 * H, 500, ControlCategory.UNCONTROLLABLE), PAX).meals


def test_appr_care_from_two_hours_for_controllable_and_safety_only() -> None:
    assert appr(Disruption(2 * H, 500), PAX).meals
    assert not appr(Disruption(2 * H - M, 500), PAX).meals
    assert appr(Disruption(2 * H, 500, ControlCategory.SAFETY), PAX).meals
    outside = appr(Disruption(8 * H, 500, ControlCategory.UNCONTROLLABLE), PAX)
    assert not (outside.meals or outside.hotel or outside.compensation)
    assert outside.option_kinds == (OptionKind.REACCOMMODATION,)  # s. 18 rebooking only


@pytest.mark.parametrize(
    ("arrival", "amount"), [(3 * H - M, None), (3 * H, 400), (6 * H, 700), (9 * H, 1000)]
)
def test_appr_compensation_by_arrival_delay(arrival: timedelta, amount: int | None) -> None:
    owed = appr(Disruption(arrival, 500), PAX)
    assert owed.compensation == (None if amount is None else Money(amount, "CAD"))


def test_appr_safety_delays_owe_care_but_no_compensation() -> None:
    owed = appr(Disruption(10 * H, 500, ControlCategory.SAFETY, overnight=True), PAX)
    assert owed.hotel and owed.compensation is None


def test_dot_meal_from_three_hours_and_hotel_overnight_when_the_airline_committed() -> None:
    airline = Carrier(dot_commitments=[DotCommitment.MEAL, "hotel", "GROUND_TRANSPORT"])
    assert not dot(Disruption(3 * H - M, 500, carrier=airline), PAX).meals
    assert dot(Disruption(3 * H, 500, carrier=airline), PAX).meals
    night = dot(Disruption(9 * H, 500, overnight=True, carrier=airline), PAX)
    assert night.hotel and night.transport and night.compensation is None
    stormy = dot(Disruption(9 * H, 500, ControlCategory.UNCONTROLLABLE, True, carrier=airline), PAX)
    assert not (stormy.meals or stormy.hotel or stormy.transport)
    assert stormy.option_kinds == (OptionKind.REFUND,)  # 14 CFR 260.6 applies whatever the cause


def test_several_presets_merge_into_the_most_generous_care() -> None:
    owed = care_owed(["dot", "ANAC400"], Disruption(2 * H + M, 500), PAX)
    assert owed.meals and owed.communication and owed.regulation == "DOT+ANAC400"


def test_unknown_regulation_is_a_typed_error() -> None:
    with pytest.raises(InvalidInputError, match="unknown regulation"):
        preset("GDPR")


def test_negative_delay_and_distance_are_rejected() -> None:
    with pytest.raises(InvalidInputError):
        Disruption(-H, 100)
    with pytest.raises(InvalidInputError):
        Disruption(H, float("nan"))


def test_haversine_matches_known_airport_distances() -> None:
    # SCL (-33.393, -70.7858) to EZE (-34.8222, -58.5358): about 1,138 km
    assert haversine_km(-33.393, -70.7858, -34.8222, -58.5358) == pytest.approx(1138, abs=2)
    assert haversine_km(10, 20, 10, 20) == 0
    with pytest.raises(InvalidInputError):
        haversine_km(91, 0, 0, 0)


def test_disruption_between_measures_real_delay_and_local_overnight() -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from nexa_core.regulation import disruption_between

    scl = ZoneInfo("America/Santiago")
    d = disruption_between(
        datetime(2026, 9, 5, 22, 0, tzinfo=scl),
        datetime(2026, 9, 6, 8, 0, tzinfo=scl),  # across the DST start: 9 real hours
        distance_km=1138,
        timezone="America/Santiago",
    )
    assert d.delay == 9 * H and d.overnight
    same_day = disruption_between(
        datetime(2026, 5, 5, 9, 0, tzinfo=scl),
        datetime(2026, 5, 5, 23, 59, tzinfo=scl),
        distance_km=10,
        timezone="America/Santiago",
    )
    assert not same_day.overnight


def test_care_for_group_flags_special_assistance_per_passenger() -> None:
    from nexa_core.regulation import care_for_group
    from nexa_core.testing.builders import make_group

    wchr = make_passenger("w", needs=frozenset({SpecialNeed.WCHR}))
    other = make_passenger("o")
    care = care_for_group(["ANAC400"], Disruption(5 * H, 500), make_group(passengers=(wchr, other)))
    assert care[wchr.urn].hotel and not care[other.urn].hotel
