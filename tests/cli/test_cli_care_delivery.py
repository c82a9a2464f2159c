"""``nexa care voucher|snapshot|notifications|cards|transfers|dispatch|resend|load-due``:
operator actions and one-line errors with the documented exit codes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import anyio
import pytest
from typer.testing import CliRunner

from nexa_adapters.demo import DemoOptions, run_demo
from nexa_cli.app import app

runner = CliRunner()


class Env:
    def __init__(self, workdir: Path, summary: dict[str, Any]) -> None:
        self.workdir = workdir
        self.case = summary["case"]
        self.store = f"sqlite:///{workdir / 'nexa.db'}"

    def run(self, *args: str, airline: str | None = "LAN") -> Any:
        tail = ["--store-url", self.store] + (["--airline", airline] if airline else [])
        return runner.invoke(app, [*args, *tail])

    def json(self, *args: str) -> Any:
        result = self.run(*args, "--json")
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Env:
    workdir = tmp_path_factory.mktemp("care-cli")
    opts = DemoOptions(passengers=16, seed=5, workdir=workdir, engine="inprocess")
    return Env(workdir, anyio.run(run_demo, opts))


def _one_line(result: Any) -> str:
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert lines[0].startswith("error: "), result.output
    return lines[0]


def _offer(env: Env) -> str:
    notes = env.json("care", "notifications", "--case", env.case)
    return str(notes[0]["sub_case"])


@pytest.mark.parametrize(
    ("args", "code", "needle"),
    [
        (("care", "voucher", "urn:sub-case:sc-nope"), 3, "not found"),
        (("care", "voucher", "urn:case:c-1"), 2, "not a sub-case URN"),
        (("care", "voucher", "not-a-urn"), 2, "URN"),
        (("care", "snapshot", "urn:sub-case:sc-nope"), 3, "not found"),
        (("care", "notifications", "--case", "urn:case:c-nope"), 3, "not found"),
        (("care", "notifications", "--case", "urn:case:c-1", "--status", "LOST"), 2, "--status"),
        (("care", "cards", "--case", "urn:case:c-nope"), 3, "not found"),
        (("care", "transfers", "--case", "urn:case:c-nope"), 3, "not found"),
        (("care", "resend", "urn:notification:n-nope"), 3, "not found"),
        (("care", "dispatch", "urn:sub-case:sc-nope", "--vendor", "sandbox"), 3, "not found"),
    ],
)
def test_bad_input_is_a_one_line_error_with_the_documented_exit_code(
    env: Env, args: tuple[str, ...], code: int, needle: str
) -> None:
    result = env.run(*args)
    assert result.exit_code == code, result.output
    assert needle in _one_line(result)


def test_the_tenant_is_required(env: Env) -> None:
    result = env.run("care", "notifications", "--case", env.case, airline=None)
    assert result.exit_code == 2 and "--airline" in _one_line(result)


def test_voucher_formats_and_a_bad_one(env: Env, tmp_path: Path) -> None:
    sub = _offer(env)
    txt = env.run("care", "voucher", sub, "--format", "txt", "--language", "pt")
    assert txt.exit_code == 0 and "VOUCHER DE HOTEL" in txt.stdout
    info = env.json("care", "voucher", sub, "--format", "png", "--out", str(tmp_path / "q.png"))
    assert info["qr_payload"].startswith("urn:reservation:") and info["bytes"] > 100
    assert (tmp_path / "q.png").read_bytes().startswith(b"\x89PNG")
    bad = env.run("care", "voucher", sub, "--format", "pdf")
    assert bad.exit_code == 2 and "--format" in _one_line(bad)
    nowhere = env.run("care", "voucher", sub, "--out", str(tmp_path / "missing" / "v.html"))
    assert nowhere.exit_code == 2


def test_an_operator_dispatches_a_manual_ride_with_a_chosen_vendor(env: Env) -> None:
    notes = env.json("care", "notifications", "--case", env.case)
    sub = next(
        s
        for s in dict.fromkeys(str(n["sub_case"]) for n in notes)
        if not env.json("care", "snapshot", s)["rides"]
    )  # a group without a ride yet (not an AUTOMATIC tier)
    out = env.json(
        "care",
        "dispatch",
        sub,
        "--vendor",
        "sandbox-cars",
        "--direction",
        "HOTEL_TO_AIRPORT",
        "--note",
        "wheelchair at door 2",
        "--user",
        "u-ops-1",
    )
    [ride] = out["transfers"]
    assert (ride["mode"], ride["vendor"], ride["direction"], ride["status"]) == (
        "MANUAL",
        "sandbox-cars",
        "HOTEL_TO_AIRPORT",
        "DISPATCHED",
    )
    rides = env.json("care", "transfers", "--case", env.case)
    assert ride["transfer"] in {r["transfer"] for r in rides}
    page = env.json("care", "snapshot", sub)
    assert ride["transfer"] in {r["transfer_urn"] for r in page["rides"]}
    unknown = env.run("care", "dispatch", sub, "--vendor", "nobody")
    assert unknown.exit_code == 6 and "not configured" in _one_line(unknown)


def test_an_explicit_resend_is_a_new_audited_action(env: Env) -> None:
    notes = env.json("care", "notifications", "--case", env.case, "--channel", "EMAIL")
    first = env.json("care", "resend", notes[0]["notification"])
    second = env.json("care", "resend", notes[0]["notification"])
    assert (first["resend"], second["resend"]) == (1, 2)
    assert first["notification"] != second["notification"] != notes[0]["notification"]
    assert first["status"] == "SENT"


def test_cards_reconcile_and_a_scheduler_run_finds_nothing_new(env: Env) -> None:
    cards = env.json("care", "cards", "--case", env.case)
    assert cards["cards"] and all(c["drops"] for c in cards["cards"])
    assert cards["loaded"] == cards["unused"]  # nothing spent yet
    again = env.json("care", "load-due", "--case", env.case)
    assert again["drops"] == []  # every drop of the (past) stay was loaded in the saga
