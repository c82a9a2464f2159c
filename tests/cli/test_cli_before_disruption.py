"""``nexa predictor watch`` and ``nexa airline manifest`` from the outside."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from typer.testing import CliRunner

from nexa_cli.app import app

ROOT = Path(__file__).resolve().parents[2]
FEED = str(ROOT / "tests" / "flights" / "data" / "feed_la500.json")
DATA = ROOT / "tests" / "airline" / "data"
runner = CliRunner()


def _inbox(tmp_path: Path) -> Path:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(DATA / "LA500_SCL.pnl", inbox / "0001.pnl")
    shutil.copy(DATA / "LA500_SCL_1.adl", inbox / "0002.adl")
    return inbox


def test_watch_opens_the_case_once_from_the_pnl_inbox(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'n.db'}"
    args = ["predictor", "watch", "--airline", "LAN", "--carrier", "LA", "--feed", FEED,
            "--manifests", "pnl", "--manifest-url", str(_inbox(tmp_path)), "--store-url", db]  # fmt: skip
    first = runner.invoke(app, [*args, "--json"])
    assert first.exit_code == 0, first.output
    (row,) = json.loads(first.stdout)
    assert (row["flight"], row["reason"], row["sub_cases"], row["replayed"]) == (
        "urn:flight:LA500@20260505:vendor:aeroapi",
        "cancelled",
        6,
        False,
    )
    again = runner.invoke(app, args)
    assert again.exit_code == 0, again.output
    assert f"replayed {row['case']} with 6 sub-case(s)" in again.stdout
    cases = runner.invoke(app, ["case", "list", "--airline", "LAN", "--store-url", db, "--json"])
    assert [c["event_id"] for c in json.loads(cases.stdout)] == ["urn:flight:LA500@20260505"]


def test_watch_reports_a_flight_without_manifest_and_exits_1(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    result = runner.invoke(
        app,
        ["predictor", "watch", "--airline", "LAN", "--carrier", "LA", "--feed", FEED,
         "--manifests", "pnl", "--manifest-url", str(empty), "--store-url", f"sqlite:///{tmp_path / 'n.db'}"],
    )  # fmt: skip
    assert result.exit_code == 1
    assert "case not opened: no PNL received for LA500@20260505" in result.stdout


def test_airline_manifest_prints_groups_and_line_numbered_errors(tmp_path: Path) -> None:
    ok = runner.invoke(
        app,
        ["airline", "manifest", "--pnl", str(DATA / "LA500_SCL.pnl"), "--adl", str(DATA / "LA500_SCL_1.adl"),
         "--airline", "LAN", "--json"],
    )  # fmt: skip
    assert ok.exit_code == 0, ok.output
    out = json.loads(ok.stdout)
    assert (out["groups"], out["passengers"]) == (6, 8)
    assert out["special_needs"] == {"BLND": 1, "DEAF": 1, "UMNR": 1, "WCHR": 1, "WCHS": 1}
    bad = tmp_path / "bad.pnl"
    bad.write_text("PNL\nLA500/05MAY SCL\n-EZE001Y\n1SILVA\n-EZEX\nENDPNL\n")
    result = runner.invoke(app, ["airline", "manifest", "--pnl", str(bad), "--airline", "LAN"])
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "error: line 4: unrecognised element '1SILVA'",
        "error: line 5: totals element '-EZEX' is not -<destination><3-digit count><class>",
        "error: 2 problems; nothing of the list was kept",
    ]
    leaky = tmp_path / "leaky.pnl"
    leaky.write_text(
        "PNL\nLA500/05MAY SCL\n-EZE001Y\n1SILVA/ANAMRS\n.L/XYZ123\n.R/DOCS HK1 P/CHL/X1\nENDPNL\n"
    )
    result = runner.invoke(app, ["airline", "manifest", "--pnl", str(leaky), "--airline", "LAN"])
    assert result.exit_code == 2
    assert "line(s) 6" in result.stderr and "X1" not in result.stderr
