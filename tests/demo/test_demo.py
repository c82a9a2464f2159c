"""The README's main job: `nexa demo` runs, resumes, and never books twice."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from nexa_adapters.demo import DemoOptions, run_demo
from nexa_cli.app import app

TERMINAL_OR_REVIEW = {"OFFER_READY", "RESOLVED", "MANUAL_REVIEW", "REJECTED_BY_PAX"}


def _check(summary: dict) -> None:
    assert set(summary["sub_cases"]) <= TERMINAL_OR_REVIEW, summary["sub_cases"]
    assert summary["partner"]["duplicate_booking_keys"] == 0
    assert summary["partner"]["live_holds"] == 0
    # one live partner booking per sub-case that holds an offer
    assert summary["partner"]["live_bookings"] == summary["sub_cases"].get("OFFER_READY", 0)
    assert summary["totals"]["accommodated"] > 0
    assert summary["status"] in {"CONFIRMED", "PARTIAL", "MANUAL_REVIEW"}


@pytest.mark.anyio
async def test_demo_runs_end_to_end_and_a_rerun_resumes_without_booking_again(
    tmp_path: Path,
) -> None:
    opts = DemoOptions(passengers=80, workdir=tmp_path, engine="inprocess", seed=3)
    first = await run_demo(opts)
    _check(first)
    assert first["resumed"] is False
    assert first["totals"]["passengers"] == 80
    assert sum(r["passengers"] for r in first["by_tier"].values()) == 80
    again = await run_demo(opts)
    _check(again)
    assert again["resumed"] is True
    assert again["case"] == first["case"]
    assert again["partner"]["live_bookings"] == first["partner"]["live_bookings"]
    assert again["partner"]["booking_calls"] == first["partner"]["booking_calls"]


def test_demo_cli_prints_the_summary_as_json(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        [
            "demo",
            "--passengers",
            "40",
            "--workdir",
            str(tmp_path),
            "--engine",
            "inprocess",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    _check(summary)
    assert set(summary["elapsed_s"]) == {"case", "demand", "allocation", "booking", "settle"}


def test_demo_cli_rejects_bad_options_in_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["demo", "--airport", "QQQ", "--passengers", "10", "--workdir", str(tmp_path)]
    )
    assert result.exit_code == 2
    assert result.stderr.strip().startswith("error:")
    assert len(result.stderr.strip().splitlines()) == 1


def _live_bookings(path: Path) -> int:
    if not path.exists():
        return 0
    try:
        with sqlite3.connect(path, timeout=5) as db:
            return db.execute("SELECT COUNT(*) FROM bookings").fetchone()[0]
    except sqlite3.Error:
        return 0


def _explain(workdir: Path, stderr: str) -> None:
    """Print what a failed resume left behind: workflow states and the workers' logs."""
    with sqlite3.connect(workdir / "engine.db") as db:
        rows = db.execute(
            "SELECT status, executor_id, substr(coalesce(error, ''), 1, 300), count(*)"
            " FROM workflow_status GROUP BY 1, 2, 3"
        ).fetchall()
    print("workflows:", *rows, sep="\n  ")
    print("rerun stderr:", stderr[-3000:])
    for log in sorted(workdir.glob("worker-*.log")):
        print(f"{log.name}:", log.read_text(errors="replace")[-3000:])


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT], ids=["SIGKILL", "SIGINT"])
def test_an_interrupted_durable_demo_completes_on_rerun_with_no_duplicate_booking(
    tmp_path: Path, sig: signal.Signals
) -> None:
    cmd = [
        sys.executable,
        "-m",
        "nexa_cli",
        "demo",
        "--passengers",
        "150",
        "--seed",
        "5",
        "--workdir",
        str(tmp_path),
        "--json",
    ]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    deadline = time.monotonic() + 120
    while _live_bookings(tmp_path / "partners.db") < 10 and time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        time.sleep(0.2)
    killed = proc.poll() is None
    if killed:
        proc.send_signal(sig)
    proc.wait(30)
    rerun = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300, check=False)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    summary = json.loads(rerun.stdout)
    try:
        _check(summary)
    except AssertionError:
        _explain(tmp_path, rerun.stderr)
        raise
    assert summary["resumed"] is True
    assert killed, "the first run finished before it could be killed"


@pytest.mark.anyio
async def test_demo_logs_carry_the_correlation_and_leak_no_contact_or_card_data(
    tmp_path: Path,
) -> None:
    from nexa_adapters.observability.testing import assert_clean_logs, capture_logs

    opts = DemoOptions(passengers=40, workdir=tmp_path, engine="inprocess", seed=9)
    with capture_logs(level="INFO") as logs:
        summary = await run_demo(opts)
    _check(summary)
    saga_lines = [line for line in logs.lines if "saga subcase-booking" in line]
    assert saga_lines, "the booking sagas log their steps"
    assert_clean_logs(logs.lines, summary["correlation"])
