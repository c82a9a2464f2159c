"""``nexa policy``, ``nexa care`` and ``nexa rooming`` through the Typer runner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from nexa_cli.app import app
from nexa_cli.commands.care import parse_duration
from nexa_core.errors import InvalidInputError

ROOT = Path(__file__).resolve().parents[2]
SCL_POLICY = str(ROOT / "examples" / "policies" / "scl-default.yaml")
TIERS_FILE = str(ROOT / "examples" / "policies" / "lan-tiers.yaml")
MANIFEST = str(ROOT / "examples" / "manifests" / "scl-rooming.json")

runner = CliRunner()


def one_line_error(result: object) -> str:
    stderr = result.stderr  # type: ignore[attr-defined]
    assert stderr.startswith("error: ") and stderr.count("\n") == 1, stderr
    return str(stderr)


def test_policy_validate_accepts_the_example() -> None:
    result = runner.invoke(app, ["policy", "validate", SCL_POLICY, "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["valid"] and data["policies"][0]["name"] == "SCL default"


def test_policy_validate_lists_each_problem_with_its_path(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(
        json.dumps(
            {
                "name": "x",
                "tiers": ["BUSINESS"],
                "constraints": {"BUSINESS": {"minStars": 0, "maxDistanceKm": -1}},
            }
        )
    )
    result = runner.invoke(app, ["policy", "validate", str(bad)])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert [ln.split(":")[1].strip() for ln in lines] == [
        "$.constraints.BUSINESS.minStars",
        "$.constraints.BUSINESS.maxDistanceKm",
    ]
    as_json = runner.invoke(app, ["policy", "validate", str(bad), "--json"])
    assert as_json.exit_code == 2 and len(json.loads(as_json.stdout)["problems"]) == 2


def test_policy_validate_missing_file_and_invalid_json_are_one_line_errors(tmp_path: Path) -> None:
    missing = runner.invoke(app, ["policy", "validate", str(tmp_path / "nope.yaml")])
    assert missing.exit_code == 2 and "cannot read" in one_line_error(missing)
    broken = tmp_path / "broken.json"
    broken.write_text('{"name": ')
    result = runner.invoke(app, ["policy", "validate", str(broken)])
    assert result.exit_code == 2 and "not valid JSON" in one_line_error(result)


def test_policy_explain_picks_the_most_specific_policy() -> None:
    result = runner.invoke(
        app,
        [
            "policy",
            "explain",
            TIERS_FILE,
            "--airport",
            "SCL",
            "--tier",
            "BUSINESS",
            "--airline",
            "LAN",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["matched"]["name"] == "LAN at SCL, business"
    assert data["matched"]["rule"] == "airport+airline+tier"
    assert data["query"]["country"] == "CL"
    assert all(c["reason"] for c in data["candidates"])


def test_policy_explain_human_output_shows_why_others_lost() -> None:
    result = runner.invoke(
        app, ["policy", "explain", TIERS_FILE, "--airport", "SCL", "--tier", "FIRST"]
    )
    assert result.exit_code == 0
    assert "matched  'Any airline at SCL, premium' by airport+tier" in result.stdout
    assert "tier FIRST not covered" in result.stdout


def test_policy_explain_without_a_match_exits_non_zero() -> None:
    result = runner.invoke(
        app, ["policy", "explain", TIERS_FILE, "--airport", "EZE", "--tier", "CREW"]
    )
    assert result.exit_code == 1 and "POLICY_VIOLATION" in result.stdout


def test_policy_explain_unknown_airport_is_a_one_line_error() -> None:
    result = runner.invoke(
        app, ["policy", "explain", TIERS_FILE, "--airport", "QQQ", "--tier", "ECONOMY"]
    )
    assert result.exit_code == 2 and "unknown airport" in one_line_error(result)


def test_care_eu261_five_hours_scl_eze() -> None:
    result = runner.invoke(
        app,
        [
            "care",
            "owed",
            "--from",
            "SCL",
            "--to",
            "EZE",
            "--delay",
            "5h",
            "--regulation",
            "EU261",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["distance_km"] == pytest.approx(1138, abs=5)
    assert data["meals"] and data["communication"] and not data["hotel"]
    assert data["compensation"] == "250.00 EUR"
    assert any("Art. 6(1)(a)" in c for c in data["citations"])


def test_care_overnight_and_uncontrollable_options() -> None:
    result = runner.invoke(
        app,
        [
            "care",
            "owed",
            "--from",
            "GRU",
            "--to",
            "GIG",
            "--delay",
            "4h30m",
            "--regulation",
            "ANAC400",
            "--regulation",
            "DOT",
            "--overnight",
            "--control",
            "UNCONTROLLABLE",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["hotel"] and data["transport"] and data["compensation"] is None
    assert any("controllable disruptions only" in c for c in data["citations"])


def test_care_human_output_cites_rules() -> None:
    result = runner.invoke(
        app,
        ["care", "owed", "--from", "YYZ", "--to", "YVR", "--delay", "150", "--regulation", "APPR"],
    )
    assert result.exit_code == 0
    assert "owed     meals, communication" in result.stdout and "s. 14(1)(a), (b)" in result.stdout


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--delay", "soon", "--regulation", "EU261"], "cannot read delay"),
        (["--delay", "5h", "--regulation", "GDPR"], "unknown regulation"),
        (["--delay", "5h", "--regulation", "EU261", "--control", "ACTS_OF_GOD"], "control"),
    ],
)
def test_care_bad_input_is_a_one_line_error(args: list[str], needle: str) -> None:
    result = runner.invoke(app, ["care", "owed", "--from", "SCL", "--to", "EZE", *args])
    assert result.exit_code == 2 and needle in one_line_error(result)


def test_duration_formats() -> None:
    assert parse_duration("2h30m").total_seconds() == 9000
    assert parse_duration("3:15").total_seconds() == 11700
    assert parse_duration("90m").total_seconds() == parse_duration("90").total_seconds() == 5400
    with pytest.raises(InvalidInputError):
        parse_duration("")


def test_rooming_plans_the_example_manifest() -> None:
    result = runner.invoke(app, ["rooming", "--pnr-file", MANIFEST, "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    rooms = {g["group_id"]: [r["room_type"] for r in g["rooms"]] for g in data["groups"]}
    assert rooms == {"FAMILY": ["TRP", "DBL"], "EXEC": ["SGL", "SGL"], "CREW": ["SGL", "SGL"]}
    assert data["total_rooms"] == 6 and data["passengers"] == 10
    exec_rooms = next(g for g in data["groups"] if g["group_id"] == "EXEC")["rooms"]
    assert exec_rooms[0]["accessible"]


def test_rooming_human_output_and_policy_option() -> None:
    result = runner.invoke(app, ["rooming", "--pnr-file", MANIFEST, "--policy", SCL_POLICY])
    assert result.exit_code == 0, result.output
    assert "TRP×3+1INF" in result.stdout and "total      6 room(s)" in result.stdout


def test_rooming_bad_files_are_one_line_errors(tmp_path: Path) -> None:
    missing = runner.invoke(app, ["rooming", "--pnr-file", str(tmp_path / "none.json")])
    assert missing.exit_code == 2 and "cannot read" in one_line_error(missing)
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2")
    result = runner.invoke(app, ["rooming", "--pnr-file", str(bad)])
    assert result.exit_code == 2 and "not valid JSON" in one_line_error(result)
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps({"airline": "urn:airline:LAN"}))
    result = runner.invoke(app, ["rooming", "--pnr-file", str(wrong)])
    assert result.exit_code == 2 and "invalid manifest" in one_line_error(result)


def test_policy_schema_prints_the_json_schema() -> None:
    result = runner.invoke(app, ["policy", "schema"])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["title"] == "Nexa policy"


def test_rooming_lists_groups_that_need_a_person_without_failing(tmp_path: Path) -> None:
    data = json.loads(Path(MANIFEST).read_text())
    minor = {
        "urn": "urn:passenger:m-1:vendor:latam",
        "name": "Kid",
        "email": "kid@example.com",
        "cabin": "ECONOMY",
        "type": "CHD",
        "special_needs": ["UMNR"],
    }
    data["groups"].append(
        {"group_id": "UMNR", "pnr": "urn:pnr:UMN001:vendor:amadeus", "passengers": [minor]}
    )
    f = tmp_path / "m.json"
    f.write_text(json.dumps(data))
    result = runner.invoke(app, ["rooming", "--pnr-file", str(f), "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    umnr = next(g for g in out["groups"] if g["group_id"] == "UMNR")
    assert umnr["rooms"] == [] and "unaccompanied" in umnr["review"]
    assert out["groups_needing_review"] == 1 and out["total_rooms"] == 6
    human = runner.invoke(app, ["rooming", "--pnr-file", str(f)])
    assert "UMNR" in human.stdout and "needs review" in human.stdout
