"""``nexa worker``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from nexa_cli.app import app

runner = CliRunner()


def test_worker_refuses_the_in_process_engine_with_a_one_line_error() -> None:
    result = runner.invoke(
        app, ["worker", "--engine-url", "inprocess://", "--store-url", "memory://"]
    )
    assert result.exit_code == 6
    assert "has no workers" in result.output and "dbos+" in result.output
    assert "--relay-only" in result.output


def test_worker_relay_catches_the_consumers_up_and_outbox_status_shows_the_lag(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from nexa_adapters.sandbox import synthetic_manifest

    monkeypatch.setenv("NEXA_CONFIG", str(tmp_path / "absent.toml"))
    store = ["--store-url", f"sqlite:///{tmp_path}/app.db"]

    def open_case(seed: int) -> None:
        manifest = tmp_path / f"m{seed}.json"
        manifest.write_text(json.dumps(synthetic_manifest("SCL", 6, seed=seed)), "utf-8")
        opened = runner.invoke(
            app, ["case", "open", "--manifest", str(manifest), *store, "--airline", "LAN"]
        )
        assert opened.exit_code == 0, opened.output

    def status() -> dict[str, Any]:
        result = runner.invoke(app, ["outbox", "status", *store, "--json"])
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)  # type: ignore[no-any-return]

    open_case(1)
    before = status()
    assert before["head"] > 0
    assert {c["consumer"]: c["lag"] for c in before["consumers"]} == {
        "metrics": before["head"],
        "snapshots": before["head"],
    }
    behind = runner.invoke(app, ["outbox", "status", *store, "--fail-on-lag", "0"])
    assert behind.exit_code == 1 and "LAG" in behind.stdout
    relayed = runner.invoke(
        app, ["worker", "--relay-only", "--until-idle", "--poll", "0.1", *store, "--json"]
    )
    assert relayed.exit_code == 0, relayed.output
    assert json.loads(relayed.stdout)["relayed"] == {
        "metrics": before["head"],
        "snapshots": before["head"],
    }
    assert {c["lag"] for c in status()["consumers"]} == {0}
    open_case(2)  # committed while no relay runs
    later = status()
    assert all(c["position"] == before["head"] and c["lag"] > 0 for c in later["consumers"])
    again = runner.invoke(app, ["worker", "--relay-only", "--until-idle", "--poll", "0.1", *store])
    assert again.exit_code == 0, again.output
    done = status()
    assert {(c["position"], c["lag"]) for c in done["consumers"]} == {(done["head"], 0)}
    unknown = runner.invoke(app, ["outbox", "status", *store, "--consumer", "nope"])
    assert unknown.exit_code == 2


def test_worker_serves_a_dbos_sqlite_engine_until_idle(tmp_path: Path) -> None:
    # a subprocess: DBOS is a process-wide singleton
    env = {**os.environ, "NEXA_EXECUTOR_ID": "cli-test"}
    proc = subprocess.run(
        [
            str(Path(sys.executable).parent / "nexa"),
            "worker",
            "--engine-url",
            f"dbos+sqlite:///{tmp_path}/engine.db",
            "--store-url",
            f"sqlite:///{tmp_path}/app.db",
            "--until-idle",
            "--poll",
            "0.2",
            "--json",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {
        "executor": "cli-test",
        "recovered": [],
        "relayed": {"metrics": 0, "snapshots": 0},
    }
