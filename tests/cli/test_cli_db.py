from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from nexa_adapters.sql.migrate import head
from nexa_cli.app import app

runner = CliRunner()


def test_db_upgrade_then_current_reports_head(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    before = runner.invoke(app, ["db", "current", "--url", url, "--json"])
    assert before.exit_code == 0, before.output
    assert json.loads(before.stdout)["current"] is None
    up = runner.invoke(app, ["db", "upgrade", "--url", url, "--json"])
    assert up.exit_code == 0, up.output
    assert json.loads(up.stdout)["to"] == head()
    now = runner.invoke(app, ["db", "current", "--url", url])
    assert now.exit_code == 0
    assert "up to date" in now.stdout and head() in now.stdout


def test_db_current_defaults_to_the_store_url_setting(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("NEXA_STORE_URL", f"sqlite:///{tmp_path / 'env.db'}")
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "env.db").exists()


def test_db_with_an_unsupported_url_is_a_one_line_configuration_error() -> None:
    result = runner.invoke(app, ["db", "current", "--url", "mysql://x/y"])
    assert result.exit_code == 6
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1


def test_db_with_an_unreachable_server_is_a_one_line_error_without_password() -> None:
    url = "postgresql+psycopg://nexa:s3cret@127.0.0.1:1/nowhere?connect_timeout=2"
    result = runner.invoke(app, ["db", "current", "--url", url])
    assert result.exit_code == 1
    assert result.stderr.startswith("error: cannot read") and "s3cret" not in result.stderr
