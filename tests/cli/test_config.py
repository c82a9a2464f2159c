from __future__ import annotations

import json

from typer.testing import CliRunner

from nexa_cli.app import app


def test_config_show_masks_secrets_and_honours_precedence(tmp_path, monkeypatch) -> None:
    toml = tmp_path / "nexa.toml"
    toml.write_text('[nexa]\nstore_url = "memory://"\nseed = 3\n')
    monkeypatch.setenv("NEXA_SEED", "5")
    monkeypatch.setenv("NEXA_JWT_SECRET", "hunter2")
    result = CliRunner().invoke(app, ["config", "show", "--config", str(toml), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["store_url"] == "memory://"
    assert data["seed"] == 5
    assert data["jwt_secret"] == "********"
    assert "hunter2" not in result.stdout


def test_config_show_reports_a_bad_file_in_one_line(tmp_path) -> None:
    toml = tmp_path / "nexa.toml"
    toml.write_text("this is = = not toml")
    result = CliRunner().invoke(app, ["config", "show", "--config", str(toml)])
    assert result.exit_code == 6
    assert len(result.stderr.strip().splitlines()) == 1
