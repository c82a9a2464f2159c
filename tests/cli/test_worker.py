"""``nexa worker``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from nexa_cli.app import app

runner = CliRunner()


def test_worker_refuses_the_in_process_engine_with_a_one_line_error() -> None:
    result = runner.invoke(
        app, ["worker", "--engine-url", "inprocess://", "--store-url", "memory://"]
    )
    assert result.exit_code == 6
    assert "has no workers" in result.output and "dbos+" in result.output


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
    assert json.loads(proc.stdout) == {"executor": "cli-test", "recovered": []}
