"""Information duties as notification triggers: what to tell, when, and the rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from nexa_core.errors import InvalidInputError
from nexa_core.regulation import (
    Disruption,
    InformationTrigger,
    PassengerFlags,
    information_duties,
    information_schedule,
)

H = timedelta(hours=1)
M = timedelta(minutes=1)
AT_ONCE, EVERY, ON_REQUEST = (
    InformationTrigger.AT_ONCE,
    InformationTrigger.EVERY,
    InformationTrigger.ON_REQUEST,
)


def triggers(regs: list[str], d: Disruption, **f: bool) -> list[tuple[str, str]]:
    return [(x.trigger.value, x.citation) for x in information_duties(regs, d, PassengerFlags(**f))]


def test_anac_delay_informs_at_once_updates_every_30_minutes_and_explains_in_writing() -> None:
    duties = information_duties(["ANAC400"], Disruption(40 * M, 500))
    assert [(x.trigger, x.citation.split(":")[0]) for x in duties] == [
        (AT_ONCE, "ANAC Res. 400 Art. 20, I"),
        (EVERY, "ANAC Res. 400 Art. 20, §1"),
        (ON_REQUEST, "ANAC Res. 400 Art. 20, §2"),
    ]
    assert duties[1].every == 30 * M and duties[2].in_writing


def test_anac_offers_the_art_21_choices_at_once_only_beyond_four_hours() -> None:
    assert not any("Art. 21" in c for _, c in triggers(["ANAC400"], Disruption(4 * H, 500)))
    assert ("at_once", "ANAC Res. 400 Art. 21, sole paragraph") in triggers(
        ["ANAC400"], Disruption(4 * H + M, 500)
    )


def test_anac_cancellation_informs_under_inciso_ii_without_periodic_updates() -> None:
    got = triggers(["ANAC400"], Disruption(timedelta(0), 500, cancelled=True))
    assert got == [
        ("at_once", "ANAC Res. 400 Art. 20, II"),
        ("on_request", "ANAC Res. 400 Art. 20, §2"),
    ]


def test_no_disruption_no_duty() -> None:
    assert (
        information_duties(["ANAC400", "APPR", "EU261", "DOT"], Disruption(timedelta(0), 1)) == ()
    )


def test_denied_boarding_alone_still_owes_the_written_reason() -> None:
    got = triggers(["ANAC400"], Disruption(timedelta(0), 500), denied_boarding=True)
    assert got == [("on_request", "ANAC Res. 400 Art. 20, §2")]


def test_appr_eu261_and_dot_duties() -> None:
    assert [c for _, c in triggers(["APPR"], Disruption(H, 500))] == [
        "APPR s. 13(1)(a)-(d)",
        "APPR s. 13(2): every 30 minutes",
    ]
    assert triggers(["EU261"], Disruption(2 * H - M, 500)) == []
    assert triggers(["EU261"], Disruption(2 * H, 500)) == [("at_once", "EU261 Art. 14(2)")]
    assert triggers(["DOT"], Disruption(29 * M, 500)) == []
    (dot,) = information_duties(["DOT"], Disruption(30 * M, 500))
    assert dot.citation.startswith("14 CFR 259.8(a)") and dot.within == 30 * M


def test_unknown_regulation_is_a_typed_error() -> None:
    with pytest.raises(InvalidInputError, match="unknown regulation"):
        information_duties(["GDPR"], Disruption(H, 1))


def test_schedule_lists_each_due_instant_until_departure() -> None:
    known = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
    duties = information_duties(["ANAC400", "DOT"], Disruption(105 * M, 500))
    plan = information_schedule(duties, known_at=known, departs_at=known + 105 * M)
    assert [(t.strftime("%H:%M"), x.citation.split(":")[0]) for t, x in plan] == [
        ("10:00", "ANAC Res. 400 Art. 20, I"),
        ("10:30", "ANAC Res. 400 Art. 20, §1"),
        ("10:30", "14 CFR 259.8(a)"),
        ("11:00", "ANAC Res. 400 Art. 20, §1"),
        ("11:30", "ANAC Res. 400 Art. 20, §1"),
    ]  # the written reason is on request: no instant


def test_schedule_refuses_naive_or_unbounded_windows() -> None:
    known = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
    duties = information_duties(["ANAC400"], Disruption(H, 500))
    with pytest.raises(InvalidInputError):
        information_schedule(duties, known_at=known.replace(tzinfo=None), departs_at=known)
    with pytest.raises(InvalidInputError):
        information_schedule(duties, known_at=known, departs_at=known + timedelta(days=31))
    assert information_schedule(duties, known_at=known, departs_at=known)[0][0] == known
