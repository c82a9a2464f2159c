"""``nexa case report``: writes the HTML page, one-line errors with distinct exit codes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import anyio
import pytest
from typer.testing import CliRunner

import nexa_cli.commands.case as case_cmd
from nexa_cli.app import app
from tests.reporting.conftest import build_populated
from tests.reporting.htmlparse import parse_report

runner = CliRunner()


@pytest.fixture
def store(monkeypatch: pytest.MonkeyPatch) -> Any:
    fx = anyio.run(build_populated)
    opened: list[tuple[str | None, str | None]] = []

    def fake_open(store_url: str | None, config: str | None = None) -> Any:
        opened.append((store_url, config))
        return fx.store

    monkeypatch.setattr(case_cmd, "open_store", fake_open)
    monkeypatch.delenv("NEXA_AIRLINE", raising=False)
    fx.store.opened = opened  # type: ignore[attr-defined]
    return fx.store


def _one_line_error(result: Any) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), result.stderr
    return lines[0]


def test_report_writes_the_html_page_and_prints_a_summary(store: Any, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    result = runner.invoke(
        app,
        ["case", "report", "urn:case:c-rep", "--html", str(out), "--airline", "LAN", "--json"],
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["hotels"] == 2 and summary["passengers_accommodated"] == 6
    assert summary["cost"] == {"USD": "600.75"} and summary["review_items"] == 1
    page = parse_report(out.read_text(encoding="utf-8"))
    assert len(page.rows("allocation", "hotel")) == 2
    assert len(page.shapes("rect", "bar")) == 2
    assert "@example.com" not in out.read_text(encoding="utf-8")
    assert store.opened == [(None, None)]


def test_tenant_comes_from_nexa_airline_and_store_url_is_passed_on(
    store: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEXA_AIRLINE", "urn:airline:LAN")
    out = tmp_path / "r.html"
    result = runner.invoke(
        app, ["case", "report", "urn:case:c-rep", "--html", str(out), "--store-url", "memory://"]
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"wrote {out}: case urn:case:c-rep (BOOKING)")
    assert store.opened == [("memory://", None)]


def test_another_tenants_case_is_an_unknown_urn_exit_3(store: Any, tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    result = runner.invoke(
        app, ["case", "report", "urn:case:c-rep", "--html", str(out), "--airline", "TAM"]
    )
    assert result.exit_code == 3
    assert "urn:case:c-rep not found" in _one_line_error(result)
    assert not out.exists()


def test_unknown_urn_in_a_real_memory_store_exits_3(tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        [
            "case",
            "report",
            "urn:case:nope",
            "--html",
            str(tmp_path / "r.html"),
            "--airline",
            "LAN",
            "--store-url",
            "memory://",
        ],
    )
    assert result.exit_code == 3
    assert "not found" in _one_line_error(result)


@pytest.mark.parametrize("urn", ["urn:case", "case:c-1", "urn:sub-case:sc-1", "urn:spaceship:x"])
def test_invalid_or_non_case_urn_exits_2(store: Any, tmp_path: Path, urn: str) -> None:
    result = runner.invoke(
        app, ["case", "report", urn, "--html", str(tmp_path / "r.html"), "--airline", "LAN"]
    )
    assert result.exit_code == 2
    _one_line_error(result)
    assert store.opened == []


def test_missing_tenant_exits_2_and_names_the_option(store: Any, tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["case", "report", "urn:case:c-rep", "--html", str(tmp_path / "r.html")]
    )
    assert result.exit_code == 2
    assert "--airline" in _one_line_error(result)
    assert store.opened == []


def test_bad_airline_code_exits_2(store: Any, tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        ["case", "report", "urn:case:c-rep", "--html", str(tmp_path / "r.html"), "--airline", "L"],
    )
    assert result.exit_code == 2
    _one_line_error(result)


@pytest.mark.parametrize("where", ["missing-dir/r.html", "."])
def test_unwritable_output_path_exits_2_before_reading(
    store: Any, tmp_path: Path, where: str
) -> None:
    target = tmp_path / where
    result = runner.invoke(
        app, ["case", "report", "urn:case:c-rep", "--html", str(target), "--airline", "LAN"]
    )
    assert result.exit_code == 2
    assert "cannot write" in _one_line_error(result)
    assert store.opened == []


def test_unknown_store_url_is_a_configuration_error(tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        [
            "case",
            "report",
            "urn:case:c-1",
            "--html",
            str(tmp_path / "r.html"),
            "--airline",
            "LAN",
            "--store-url",
            "nosuch://x",
        ],
    )
    assert result.exit_code == 6
    assert "nosuch://x" in _one_line_error(result)


def test_missing_settings_file_exits_2(tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        [
            "case",
            "report",
            "urn:case:c-1",
            "--html",
            str(tmp_path / "r.html"),
            "--airline",
            "LAN",
            "--config",
            str(tmp_path / "nope.toml"),
        ],
    )
    assert result.exit_code == 2
    assert "nope.toml does not exist" in _one_line_error(result)


def test_settings_file_names_the_store(tmp_path: Path) -> None:
    config = tmp_path / "nexa.toml"
    config.write_text('[nexa]\nstore_url = "memory://"\n', encoding="utf-8")
    result = runner.invoke(
        app,
        [
            "case",
            "report",
            "urn:case:c-1",
            "--html",
            str(tmp_path / "r.html"),
            "--airline",
            "LAN",
            "--config",
            str(config),
        ],
    )
    # the memory store from the file is empty: the case is unknown (not a config error)
    assert result.exit_code == 3
    assert "urn:case:c-1 not found" in _one_line_error(result)


def test_report_from_a_sqlite_store_filled_by_an_earlier_process(tmp_path: Path) -> None:
    from nexa_adapters.plugins import get_plugin_manager

    pm = get_plugin_manager()
    if pm.get_plugin("sql") is None:
        pytest.skip("the sql store plugin is not installed")
    url = f"sqlite:///{tmp_path / 'nexa.db'}"

    async def fill() -> None:
        store = pm.hook.nexa_store_from_url(url=url, options={})
        try:
            await build_populated(store)
        finally:
            await store.close()

    anyio.run(fill)
    out = tmp_path / "report.html"
    result = runner.invoke(
        app,
        [
            "case",
            "report",
            "urn:case:c-rep",
            "--html",
            str(out),
            "--airline",
            "LAN",
            "--store-url",
            url,
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert (summary["hotels"], summary["passengers_accommodated"]) == (2, 6)
    assert summary["cost"] == {"USD": "600.75"}
    page = parse_report(out.read_text(encoding="utf-8"))
    assert len(page.shapes("polyline", "series")) == 5
