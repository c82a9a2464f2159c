from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from nexa_cli.app import app

runner = CliRunner()
CORR = "urn:correlation:4bf92f3577b34da6a3ce929d0e0e4736"


def _write(tmp_path: Path, *events: dict[str, str]) -> str:
    path = tmp_path / "run.log"
    path.write_text("\n".join(json.dumps(e) for e in events) + "\n", encoding="utf-8")
    return str(path)


def test_clean_logs_pass(tmp_path: Path) -> None:
    path = _write(tmp_path, {"event": "a [email]", "correlation_urn": CORR})
    result = runner.invoke(app, ["logs", "check", path, "--correlation", CORR])
    assert result.exit_code == 0, result.output
    assert "1 lines, all clean" in result.stdout


def test_leaks_and_missing_correlation_fail_by_line_number(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        {"event": "ok", "correlation_urn": CORR},
        {"event": "mail ana@example.com", "correlation_urn": CORR},
        {"event": "no correlation"},
    )
    result = runner.invoke(app, ["logs", "check", path, "--correlation", CORR, "--json"])
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["problems"] == ["line 2: e-mail", f"line 3: no {CORR}"]
    assert "ana@example.com" not in result.output
    assert "error: 2 of 3 log lines are not clean" in result.output


def test_a_missing_file_is_exit_code_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["logs", "check", str(tmp_path / "nope.log")])
    assert result.exit_code == 2
