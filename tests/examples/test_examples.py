"""The examples run as users run them: as scripts and as a separate pytest session."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEXA_")}
    env["PYTHONWARNINGS"] = "error"
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_embedding_service_plans_and_records_a_case_with_its_own_hotel_provider() -> None:
    result = _run("examples/embedding/service.py")
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "hotel providers: inhouse" in out
    assert re.search(r"group FAMILY: 6 pax, tier ECONOMY, .*rooms 2 \(TRP, DBL\)", out)
    assert re.search(r"group EXEC: 2 pax, tier BUSINESS, .*rooms 2 \(SGL, SGL\)", out)
    assert "stay: 2026-05-05 → 2026-05-06 (America/Santiago), 1 night(s)" in out
    assert out.count("offer: ") == 3 and "(inhouse)" in out
    assert "case urn:case:c-000001 opened for LA500 at SCL: 3 groups, 10 passengers" in out
    assert "report: 10 passengers in 3 sub-cases, case status OPEN, audit ['OPEN']" in out
    assert "@example.com" not in out


def test_testing_with_fakes_suite_passes_in_its_own_pytest_session() -> None:
    result = _run("-m", "pytest", "examples/testing-with-fakes", "-q", "-p", "no:cacheprovider")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    summary = re.search(r"(\d+) passed", result.stdout)
    assert summary is not None and int(summary.group(1)) >= 70, result.stdout[-500:]
    assert "failed" not in result.stdout.splitlines()[-1]


def test_the_main_test_run_collects_the_example_suite_only_through_this_file() -> None:
    result = _run("-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider")
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    collected = [line for line in result.stdout.splitlines() if "::" in line]
    assert any(line.startswith("tests/examples/") for line in collected)
    assert not [line for line in collected if line.startswith("examples/")]
