"""Stay plans across midnight and daylight-saving changes in real time zones."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from nexa_core.errors import InvalidInputError
from nexa_core.model import StayPlan
from nexa_core.policy import Buffers, plan_stay, plan_stays, reaccommodate
from nexa_core.testing.builders import make_group

SCL = ZoneInfo("America/Santiago")
MAD = ZoneInfo("Europe/Madrid")
B = Buffers(early_check_in_minutes=60, late_checkout_minutes=120)


def real(plan: StayPlan) -> timedelta:
    """Elapsed time of a stay (same-zone datetimes subtract by wall clock in Python)."""
    return plan.check_out.astimezone(UTC) - plan.check_in.astimezone(UTC)


def test_evening_disruption_with_morning_departure_is_one_night_in_local_time() -> None:
    plan = plan_stay(
        disrupted_at=datetime(2026, 5, 5, 17, 0, tzinfo=SCL),
        departure=datetime(2026, 5, 6, 10, 0, tzinfo=SCL),
        timezone="America/Santiago",
        buffers=B,
    )
    assert plan.check_in == datetime(2026, 5, 5, 18, 0, tzinfo=SCL)
    assert plan.check_out == datetime(2026, 5, 6, 8, 0, tzinfo=SCL)
    assert plan.check_in.tzinfo == SCL and plan.nights == 1 and not plan.local_resident


def test_inputs_in_utc_are_shown_in_the_airport_zone() -> None:
    plan = plan_stay(
        disrupted_at=datetime(2026, 5, 5, 21, 0, tzinfo=UTC),  # 17:00 in Santiago (UTC-4)
        departure=datetime(2026, 5, 7, 14, 0, tzinfo=UTC),
        timezone="America/Santiago",
        buffers=B,
    )
    assert (plan.check_in.hour, plan.check_in.utcoffset()) == (18, timedelta(hours=-4))
    assert plan.nights == 2


def test_small_hours_check_in_belongs_to_the_night_already_running() -> None:
    plan = plan_stay(
        disrupted_at=datetime(2026, 5, 5, 23, 30, tzinfo=MAD),
        departure=datetime(2026, 5, 6, 9, 0, tzinfo=MAD),
        timezone="Europe/Madrid",
        buffers=B,
    )
    assert plan.check_in.date().day == 6  # 00:30, past midnight
    assert plan.nights == 1


def test_same_day_departure_needs_no_overnight() -> None:
    plan = plan_stay(
        disrupted_at=datetime(2026, 5, 5, 9, 0, tzinfo=SCL),
        departure=datetime(2026, 5, 5, 21, 0, tzinfo=SCL),
        timezone="America/Santiago",
        buffers=B,
    )
    assert plan.nights == 0 and plan.local_resident


def test_buffers_that_swallow_the_gap_leave_an_empty_no_overnight_plan() -> None:
    plan = plan_stay(
        disrupted_at=datetime(2026, 5, 5, 22, 0, tzinfo=SCL),
        departure=datetime(2026, 5, 6, 0, 30, tzinfo=SCL),
        timezone="America/Santiago",
        buffers=B,
    )
    assert plan.nights == 0 and plan.local_resident and plan.check_in == plan.check_out


def test_madrid_spring_forward_night_keeps_real_elapsed_buffers() -> None:
    # 29 March 2026: 02:00 CET jumps to 03:00 CEST
    plan = plan_stay(
        disrupted_at=datetime(2026, 3, 28, 22, 0, tzinfo=MAD),
        departure=datetime(2026, 3, 29, 9, 0, tzinfo=MAD),
        timezone="Europe/Madrid",
        buffers=B,
    )
    assert plan.check_in.utcoffset() == timedelta(hours=1)
    assert plan.check_out.utcoffset() == timedelta(hours=2)
    assert plan.check_out == datetime(2026, 3, 29, 7, 0, tzinfo=MAD)
    assert real(plan) == timedelta(hours=7)  # 23:00 → 07:00 is 8 wall hours, 7 real
    assert plan.nights == 1


def test_madrid_fall_back_across_the_repeated_hour() -> None:
    # 25 October 2026: 03:00 CEST goes back to 02:00 CET; a 02:30 check-in is ambiguous
    disrupted = datetime(2026, 10, 24, 23, 30, tzinfo=UTC)  # 01:30 CEST on the 25th
    plan = plan_stay(
        disrupted_at=disrupted,
        departure=datetime(2026, 10, 25, 12, 0, tzinfo=MAD),
        timezone="Europe/Madrid",
        buffers=Buffers(early_check_in_minutes=60, late_checkout_minutes=120),
    )
    assert plan.check_in.astimezone(UTC) == disrupted + timedelta(hours=1)
    assert plan.check_in.utcoffset() == timedelta(hours=2)  # 02:30 CEST, the first 02:30
    assert plan.nights == 1  # 02:30 belongs to the night of the 24th


def test_santiago_dst_start_where_local_midnight_does_not_exist() -> None:
    # 6 September 2026: Chile moves 00:00 → 01:00 (UTC-4 → UTC-3); no local midnight that day
    plan = plan_stay(
        disrupted_at=datetime(2026, 9, 5, 20, 0, tzinfo=SCL),
        departure=datetime(2026, 9, 6, 12, 0, tzinfo=SCL),
        timezone="America/Santiago",
        buffers=B,
    )
    assert plan.check_in.utcoffset() == timedelta(hours=-4)
    assert plan.check_out.utcoffset() == timedelta(hours=-3)
    assert real(plan) == timedelta(hours=12)  # 21:00 → 10:00 is 13 wall hours, 12 real
    assert plan.nights == 1


def test_santiago_dst_end_gives_back_an_hour() -> None:
    # 5 April 2026: Chile moves 00:00 back to 23:00 on the 4th (UTC-3 → UTC-4)
    plan = plan_stay(
        disrupted_at=datetime(2026, 4, 4, 20, 0, tzinfo=SCL),
        departure=datetime(2026, 4, 5, 10, 0, tzinfo=SCL),
        timezone="America/Santiago",
        buffers=B,
    )
    assert real(plan) == timedelta(hours=12)  # 21:00 → 08:00 is 11 wall hours, 12 real
    assert plan.nights == 1


def test_resident_group_needs_no_hotel() -> None:
    plan = plan_stay(
        disrupted_at=datetime(2026, 5, 5, 17, 0, tzinfo=SCL),
        departure=datetime(2026, 5, 6, 10, 0, tzinfo=SCL),
        timezone="America/Santiago",
        buffers=B,
        resident=True,
    )
    assert plan.local_resident and plan.nights == 0


def test_bad_inputs_are_rejected() -> None:
    with pytest.raises(InvalidInputError, match="time zone"):
        plan_stay(
            disrupted_at=datetime(2026, 5, 5, tzinfo=UTC),
            departure=datetime(2026, 5, 6, tzinfo=UTC),
            timezone="Mars/Olympus",
            buffers=B,
        )
    with pytest.raises(InvalidInputError, match="UTC offset"):
        plan_stay(
            disrupted_at=datetime(2026, 5, 5),
            departure=datetime(2026, 5, 6, tzinfo=UTC),
            timezone="UTC",
            buffers=B,
        )
    with pytest.raises(InvalidInputError, match="before the disruption"):
        plan_stay(
            disrupted_at=datetime(2026, 5, 6, tzinfo=UTC),
            departure=datetime(2026, 5, 5, tzinfo=UTC),
            timezone="UTC",
            buffers=B,
        )


def test_group_departure_wins_over_the_case_departure() -> None:
    g1, g2 = make_group("G1", pnr="AAA111"), make_group("G2", pnr="BBB222")
    plans = plan_stays(
        [g1, g2],
        disrupted_at=datetime(2026, 5, 5, 17, 0, tzinfo=SCL),
        departure=datetime(2026, 5, 6, 10, 0, tzinfo=SCL),
        group_departures={"G2": datetime(2026, 5, 7, 10, 0, tzinfo=SCL)},
        timezone="America/Santiago",
        buffers=B,
    )
    assert (plans["G1"].nights, plans["G2"].nights) == (1, 2)


def test_missing_departure_names_the_groups() -> None:
    with pytest.raises(InvalidInputError, match="G1"):
        plan_stays(
            [make_group("G1")],
            disrupted_at=datetime(2026, 5, 5, 17, 0, tzinfo=SCL),
            departure=None,
            timezone="America/Santiago",
            buffers=B,
        )


def test_reaccommodation_reports_only_the_groups_whose_plan_changed() -> None:
    groups = [make_group("G1", pnr="AAA111"), make_group("G2", pnr="BBB222")]
    start = datetime(2026, 5, 5, 17, 0, tzinfo=SCL)
    kw = {"disrupted_at": start, "timezone": "America/Santiago", "buffers": B}
    own = {"G2": datetime(2026, 5, 6, 10, 0, tzinfo=SCL)}
    before = plan_stays(groups, departure=datetime(2026, 5, 6, 10, 0, tzinfo=SCL), **kw)
    # the case departure moves to the same evening (no night left); G2 keeps its own flight
    result = reaccommodate(
        before,
        groups,
        departure=datetime(2026, 5, 5, 23, 0, tzinfo=SCL),
        group_departures=own,
        **kw,
    )
    assert result.changed_groups == ("G1",)
    (change,) = result.changes
    assert change.became_local_resident and change.nights_delta == -1
    # the same departure given in UTC changes nothing
    same = reaccommodate(
        result.plans,
        groups,
        departure=datetime(2026, 5, 6, 3, 0, tzinfo=UTC),
        group_departures=own,
        **kw,
    )
    assert same.changed_groups == ()
