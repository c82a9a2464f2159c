from __future__ import annotations

import json

from typer.testing import CliRunner

from nexa_cli.app import app
from nexa_core import __version__

runner = CliRunner()


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == f"nexa {__version__}"


def test_urn_parse_json() -> None:
    result = runner.invoke(
        app,
        ["urn", "parse", "urn:reservation:AMAD-1A-99XX:vendor:amadeus:status:confirmed", "--json"],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert {k: data[k] for k in ("entity", "id", "vendor", "status")} == {
        "entity": "reservation",
        "id": "AMAD-1A-99XX",
        "vendor": "amadeus",
        "status": "confirmed",
    }


def test_urn_parse_human() -> None:
    result = runner.invoke(app, ["urn", "parse", "urn:case:c-1"])
    assert result.exit_code == 0
    assert "entity" in result.stdout and "case" in result.stdout


def test_bad_urn_gives_one_line_error_naming_the_part() -> None:
    result = runner.invoke(app, ["urn", "parse", "urn:bogus"])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and "id" in lines[0]
    result = runner.invoke(app, ["urn", "parse", "urn:spaceship:x"])
    assert result.exit_code == 2 and "entity" in result.stderr
