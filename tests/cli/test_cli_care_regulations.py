"""``nexa care``: the new regulation inputs, their output, and delays that cannot break it."""

from __future__ import annotations

import json
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.main import get_command

from nexa_cli.app import app

# click's runner on the command built once (Typer's runner rebuilds the app per call)
runner = CliRunner()
NEXA = get_command(app)
CARE = ["care", "owed"]  # the "what one passenger is owed" command
CAP_MINUTES = 30 * 24 * 60


def run(*args: str) -> Any:
    return runner.invoke(NEXA, [*CARE, *args])


def owed(*args: str) -> dict[str, Any]:
    result = run(*args, "--json")
    assert result.exit_code == 0, result.output
    return dict(json.loads(result.stdout))


def one_line_error(result: Any) -> str:
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, result.stderr
    return str(result.stderr)


def test_anac_refund_options_deadline_and_information_in_json() -> None:
    data = owed(
        *("--from", "GRU", "--to", "GIG", "--delay", "4h1m", "--regulation", "ANAC400"),
        "--declines-alternative",
    )
    assert data["domestic"] and data["refund"]
    assert [o["kind"] for o in data["options"]] == [
        "reaccommodation",
        "rebooking_later",
        "refund",
        "other_mode",
    ]
    assert all(o["citation"].startswith("ANAC Res. 400 Art. 21, I") for o in data["options"])
    assert data["deadlines"] == [
        {
            "duty": "refund",
            "days": 7,
            "business_days": False,
            "counted_from": "the passenger's refund request",
            "condition": "",
            "citation": "ANAC Res. 400 Art. 29",
        }
    ]
    cites = {i["citation"].split(":")[0] for i in data["information"]}
    assert {"ANAC Res. 400 Art. 20, I", "ANAC Res. 400 Art. 20, §1"} <= cites


def test_denied_boarding_pays_sdr_by_route() -> None:
    base = ("--delay", "1h", "--regulation", "ANAC400", "--denied-boarding")
    assert owed("--from", "GRU", "--to", "GIG", *base)["compensation"] == "250.00 XDR"
    assert owed("--from", "GRU", "--to", "EZE", *base)["compensation"] == "500.00 XDR"


def test_appr_carrier_size_and_notice_hours() -> None:
    trip = ("--from", "YYZ", "--to", "YVR", "--delay", "3h", "--regulation", "APPR")
    assert owed(*trip)["compensation"] == "400.00 CAD"
    small = owed(*trip, "--carrier-size", "small")
    assert small["compensation"] == "125.00 CAD" and small["carrier_size"] == "SMALL"
    assert any("s. 19(1)(b)(i)" in c for c in small["citations"])
    assert owed(*trip, "--notice-hours", "11.9")["meals"]
    told = owed(*trip, "--notice-hours", "12")
    assert not told["meals"] and told["compensation"] == "400.00 CAD"
    assert owed(*trip, "--notice-hours", "336")["compensation"] == "400.00 CAD"
    assert owed(*trip, "--notice-hours", "336.1")["compensation"] is None


def test_dot_refund_whatever_the_cause_and_the_airlines_commitments() -> None:
    trip = ("--from", "JFK", "--to", "LAX", "--regulation", "DOT")
    storm = owed(*trip, "--delay", "3h", "--control", "UNCONTROLLABLE", "--declines-alternative")
    assert storm["refund"] and not storm["meals"]
    assert not owed(*trip, "--delay", "5h")["meals"]  # no commitment published
    fed = owed(*trip, "--delay", "5h", "--dot-commitment", "meal")
    assert fed["meals"] and fed["dot_commitments"] == ["MEAL"]
    assert len(owed(*trip, "--delay", "5h", "--dot-commitment", "all")["dot_commitments"]) == 5


def test_human_output_shows_refund_choices_deadlines_and_duties() -> None:
    result = run(
        *("--from", "GRU", "--to", "GIG", "--delay", "5h", "--regulation", "ANAC400"),
        "--declines-alternative",
    )
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "refund   owed" in out
    assert "options  reaccommodation, rebooking_later, refund, other_mode" in out
    assert "refund within 7 days of the passenger's refund request" in out
    assert "every 30 min: an update of the estimated departure time" in out


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--delay", "99999999999999999"], "30-day cap"),
        (["--delay", "²"], "cannot read delay"),
        (["--delay", "٣"], "cannot read delay"),  # a non-ASCII digit int() would accept
        (["--delay", "30d1m"], "30-day cap"),
        (["--delay", "1" * 5000], "30-day cap"),  # beyond int()'s digit limit
        (["--delay", "1h", "--arrival-delay=-5h"], "cannot read arrival delay"),
        (["--delay", "1h", "--notice-hours", "nan"], "notice hours"),
        (["--delay", "1h", "--notice-hours", "-1"], "notice hours"),
        (["--delay", "1h", "--notice-hours", "9000"], "365 days"),
        (["--delay", "1h", "--carrier-size", "medium"], "carrier size"),
        (["--delay", "1h", "--dot-commitment", "lounge"], "DOT commitment"),
    ],
)
def test_bad_input_is_a_one_line_error(args: list[str], needle: str) -> None:
    result = run("--from", "SCL", "--to", "EZE", "--regulation", "APPR", *args)
    assert needle in one_line_error(result)


def test_the_cap_itself_is_accepted() -> None:
    data = owed("--from", "SCL", "--to", "EZE", "--delay", "30d", "--regulation", "EU261")
    assert data["delay_minutes"] == CAP_MINUTES


SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(st.text(max_size=24))
def test_no_delay_string_produces_a_traceback(text: str) -> None:
    result = run(
        "--from", "SCL", "--to", "EZE", "--regulation", "EU261", f"--delay={text}", "--json"
    )
    assert result.exception is None or isinstance(result.exception, SystemExit), text
    assert result.exit_code in (0, 2), (text, result.output)
    if result.exit_code == 0:
        assert 0 <= json.loads(result.stdout)["delay_minutes"] <= CAP_MINUTES
    else:
        one_line_error(result)


@st.composite
def delays(draw: st.DrawFn) -> tuple[str, int]:
    """A delay written in one of the accepted forms, and its length in minutes."""
    minutes = draw(st.integers(0, CAP_MINUTES))
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    form = draw(st.sampled_from(["plain", "clock", "units", "hm"]))
    if form == "plain":
        text = str(minutes)
    elif form == "clock":
        text = f"{minutes // 60}:{mins:02d}"
    elif form == "units":
        text = (f"{days}d" if days else "") + (f"{hours}h" if hours else "") + f"{mins}m"
    else:
        text = f"{minutes // 60}h{mins}m"
    pad = draw(st.sampled_from(["", " ", "\t"]))
    return pad + (text.upper() if draw(st.booleans()) else text) + pad, minutes


@SETTINGS
@given(delays())
def test_every_parseable_delay_within_the_cap_gives_a_result(case: tuple[str, int]) -> None:
    text, minutes = case
    result = run(
        "--from", "SCL", "--to", "EZE", "--regulation", "EU261", f"--delay={text}", "--json"
    )
    assert result.exit_code == 0, (text, result.output)
    assert json.loads(result.stdout)["delay_minutes"] == minutes


@SETTINGS
@given(st.integers(CAP_MINUTES + 1, 10**30))
def test_every_delay_over_the_cap_is_refused_in_one_line(minutes: int) -> None:
    result = run("--from", "SCL", "--to", "EZE", "--regulation", "EU261", f"--delay={minutes}")
    assert "30-day cap" in one_line_error(result)
