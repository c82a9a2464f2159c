"""Operator commands: ``nexa case open|list|show|reaccommodate``, ``nexa demand``,
``nexa review`` and ``nexa audit`` against a SQLite store that persists between runs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import anyio
import pytest
from typer.testing import CliRunner

from nexa_adapters.sandbox import synthetic_manifest
from nexa_cli.app import app
from nexa_cli.commands.case import open_store
from nexa_core.model import ManualReviewItem, ReviewCategory
from nexa_core.tenancy import TenantContext
from nexa_core.urn import Urn

runner = CliRunner()
POLICY = Path(__file__).resolve().parents[2] / "nexa_adapters" / "data" / "demo-policy.yaml"


class Env:
    """A tmp store URL, a manifest file and a helper to run ``nexa``."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.store_url = f"sqlite:///{tmp / 'n.db'}"
        self.manifest = tmp / "manifest.json"
        self.manifest.write_text(json.dumps(synthetic_manifest("SCL", 12, seed=1)), "utf-8")
        self.gated_policy = tmp / "gated.yaml"
        text = POLICY.read_text("utf-8")
        assert "maxAutomaticRoomsPerWave: 500" in text
        self.gated_policy.write_text(
            text.replace("maxAutomaticRoomsPerWave: 500", "maxAutomaticRoomsPerWave: 2"), "utf-8"
        )

    def run(self, *args: str, airline: str = "LAN") -> Any:
        argv = [*args, "--store-url", self.store_url]
        if airline:
            argv += ["--airline", airline]
        return runner.invoke(app, argv)

    def ok(self, *args: str, airline: str = "LAN") -> Any:
        result = self.run(*args, "--json", airline=airline)
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    def open_gated(self) -> dict[str, Any]:
        return self.ok(  # type: ignore[no-any-return]
            "case", "open", "--manifest", str(self.manifest), "--policy", str(self.gated_policy)
        )


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Env:
    for var in ("NEXA_AIRLINE", "NEXA_ROLE", "NEXA_USER", "NEXA_STORE_URL", "NEXA_ENGINE_URL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NEXA_CONFIG", str(tmp_path / "absent.toml"))
    return Env(tmp_path)


def one_line_error(result: Any, code: int) -> str:
    assert result.exit_code == code, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), result.stderr
    return lines[0]


def add_review(env: Env, case_urn: str, n: str = "1") -> str:
    item = ManualReviewItem(
        Urn("review", f"rv-{n}"),
        Urn("airline", "LAN"),
        Urn.parse(case_urn),
        ReviewCategory.BOOKING_FAILED,
        "every hotel refused",
        ("G1",),
    )

    async def main() -> None:
        store = open_store(env.store_url)
        try:
            await store.reviews.add(TenantContext.system(Urn("airline", "LAN")), item)
        finally:
            await store.close()

    anyio.run(main)
    return str(item.urn)


# ----------------------------------------------------------------------------- case open


def test_case_open_auto_approves_under_the_demo_policy_and_a_replay_says_so(env: Env) -> None:
    first = env.ok("case", "open", "--manifest", str(env.manifest))
    assert first["case"].startswith("urn:case:") and first["replayed"] is False
    assert first["sub_cases"] > 0 and first["demand"]["status"] == "APPROVED"
    again = env.run("case", "open", "--manifest", str(env.manifest))
    assert again.exit_code == 0, again.output
    assert again.stdout.startswith(f"replayed {first['case']}: {first['sub_cases']} sub-case(s)")
    assert len(env.ok("case", "list")) == 1


def test_case_open_with_a_small_automatic_wave_leaves_the_demand_requested(env: Env) -> None:
    opened = env.open_gated()
    assert opened["demand"]["status"] == "REQUESTED"
    assert opened["demand"]["rooms"] > 2


def test_case_open_missing_manifest_file_is_a_one_line_error(env: Env) -> None:
    result = env.run("case", "open", "--manifest", str(env.tmp / "nope.json"))
    assert "cannot read" in one_line_error(result, 2)


def test_case_open_invalid_json_is_a_one_line_error(env: Env) -> None:
    bad = env.tmp / "bad.json"
    bad.write_text('{"groups": [', "utf-8")
    one_line_error(env.run("case", "open", "--manifest", str(bad)), 2)
    assert env.ok("case", "list") == []


def test_case_open_invalid_manifest_names_the_problem(env: Env) -> None:
    bad = env.tmp / "bad.json"
    bad.write_text(json.dumps({"groups": []}), "utf-8")
    assert "manifest" in one_line_error(env.run("case", "open", "--manifest", str(bad)), 2)


def test_case_open_bad_policy_file_is_a_one_line_error(env: Env) -> None:
    policy = env.tmp / "p.yaml"
    policy.write_text("name: x\ntiers: [NOPE]\n", "utf-8")
    result = env.run("case", "open", "--manifest", str(env.manifest), "--policy", str(policy))
    one_line_error(result, 2)


def test_case_open_for_another_airlines_manifest_is_not_found(env: Env) -> None:
    result = env.run("case", "open", "--manifest", str(env.manifest), airline="TAM")
    one_line_error(result, 3)


def test_operator_commands_need_a_tenant_and_a_valid_role_and_user(env: Env) -> None:
    one_line_error(env.run("case", "open", "--manifest", str(env.manifest), airline=""), 2)
    args = ("case", "open", "--manifest", str(env.manifest))
    assert "--as-role" in one_line_error(env.run(*args, "--as-role", "PILOT"), 2)
    assert "--user" in one_line_error(env.run(*args, "--user", "bob"), 2)
    assert env.ok("case", "list") == []


# ----------------------------------------------------------------------------- case list/show


def test_case_list_filters_by_status_and_rejects_an_unknown_status(env: Env) -> None:
    opened = env.open_gated()
    assert [c["case"] for c in env.ok("case", "list", "--status", "open")] == [opened["case"]]
    assert env.ok("case", "list", "--status", "CONFIRMED") == []
    assert "--status" in one_line_error(env.run("case", "list", "--status", "SLEEPY"), 2)
    assert env.ok("case", "list", airline="TAM") == []


def test_case_show_has_header_sub_case_counts_and_the_audit_timeline(env: Env) -> None:
    opened = env.open_gated()
    demand = opened["demand"]["demand"]
    env.ok("demand", "approve", demand, "--reason", "hub closed")
    shown = env.ok("case", "show", opened["case"])
    assert shown["case"]["case"] == opened["case"] and shown["case"]["airport"] == "SCL"
    assert shown["sub_cases"] == opened["sub_cases"]
    assert sum(shown["sub_case_status"].values()) == opened["sub_cases"]
    actions = [e["action"] for e in shown["timeline"]]
    # the explicit policy file is recorded as an ad-hoc version under the case's correlation
    assert actions == ["policy.ad-hoc", "case.opened", "demand.approved"]
    assert shown["timeline"][2]["reason"] == "hub closed"
    human = env.run("case", "show", opened["case"])
    assert human.exit_code == 0 and "timeline (3 of 3 entries)" in human.stdout


def test_case_show_unknown_invalid_and_cross_tenant_urns(env: Env) -> None:
    opened = env.open_gated()
    assert "not found" in one_line_error(env.run("case", "show", "urn:case:c-nope"), 3)
    one_line_error(env.run("case", "show", "not-a-urn"), 2)
    one_line_error(env.run("case", "show", "urn:demand:DMD-1"), 2)
    one_line_error(env.run("case", "show", opened["case"], airline="TAM"), 3)


# ----------------------------------------------------------------------------- reaccommodate


def test_case_reaccommodate_replans_stays_and_is_audited(env: Env) -> None:
    opened = env.open_gated()
    out = env.ok(
        "case", "reaccommodate", opened["case"], "--departure", "2026-05-07T09:40:00-04:00"
    )
    assert out["changed"] and all(c["nights"] == 2 for c in out["changed"])
    shown = env.ok("case", "show", opened["case"])
    assert shown["case"]["next_departure"] == "2026-05-07T09:40:00-04:00"
    assert "case.reaccommodated" in [e["action"] for e in shown["timeline"]]


def test_case_reaccommodate_bad_input(env: Env) -> None:
    opened = env.open_gated()
    naive = env.run("case", "reaccommodate", opened["case"], "--departure", "2026-05-07T09:40")
    assert "time zone" in one_line_error(naive, 2)
    garbage = env.run("case", "reaccommodate", opened["case"], "--departure", "tomorrow")
    one_line_error(garbage, 2)
    unknown = env.run("case", "reaccommodate", "urn:case:c-x", "--departure", "2026-05-07T09:40Z")
    one_line_error(unknown, 3)


# ----------------------------------------------------------------------------- demand


def test_demand_approve_records_the_reason_and_the_operator(env: Env) -> None:
    opened = env.open_gated()
    demand = opened["demand"]["demand"]
    out = env.ok("demand", "approve", demand, "--reason", "ok", "--user", "u-ana")
    assert out["status"] == "APPROVED" and out["decided_by"] == "urn:user:u-ana"
    listed = env.ok("demand", "list", "--case", opened["case"])
    assert [(d["demand"], d["status"]) for d in listed] == [(demand, "APPROVED")]
    assert env.ok("demand", "list", "--status", "REQUESTED") == []
    again = env.run("demand", "reject", demand, "--reason", "changed my mind")
    one_line_error(again, 4)


def test_demand_reject_needs_a_reason_and_a_supervisor(env: Env) -> None:
    opened = env.open_gated()
    demand = opened["demand"]["demand"]
    assert "--reason" in one_line_error(env.run("demand", "reject", demand, "--reason", " "), 2)
    assert env.run("demand", "reject", demand).exit_code == 2  # option missing (usage error)
    denied = env.run("demand", "reject", demand, "--reason", "no", "--as-role", "AIRPORT_OPERATOR")
    one_line_error(denied, 5)
    out = env.ok("demand", "reject", demand, "--reason", "too many rooms")
    assert out["status"] == "REJECTED" and out["reason"] == "too many rooms"


def test_demand_commands_bad_urns(env: Env) -> None:
    opened = env.open_gated()
    demand = opened["demand"]["demand"]
    one_line_error(env.run("demand", "approve", "urn:demand:DMD-x", "--reason", "r"), 3)
    one_line_error(env.run("demand", "approve", "nope", "--reason", "r"), 2)
    one_line_error(env.run("demand", "approve", opened["case"], "--reason", "r"), 2)
    one_line_error(env.run("demand", "approve", demand, "--reason", "r", airline="TAM"), 3)
    one_line_error(env.run("demand", "list", "--case", "urn:case:c-x"), 3)
    one_line_error(env.run("demand", "list", "--case", "bad"), 2)


# ----------------------------------------------------------------------------- review


def test_review_list_claim_and_resolve(env: Env) -> None:
    opened = env.open_gated()
    item = add_review(env, opened["case"])
    listed = env.ok("review", "list", "--case", opened["case"], "--state", "OPEN")
    assert [r["review"] for r in listed] == [item]
    claimed = env.ok("review", "claim", item, "--user", "u-ana")
    assert claimed["state"] == "CLAIMED" and claimed["assigned_to"] == "urn:user:u-ana"
    other = env.run("review", "resolve", item, "--resolution", "done", "--user", "u-bo")
    one_line_error(other, 4)
    resolved = env.ok("review", "resolve", item, "--resolution", "rebooked", "--user", "u-ana")
    assert resolved["state"] == "RESOLVED" and resolved["resolution"] == "rebooked"
    assert env.ok("review", "list", "--state", "OPEN") == []
    actions = [e["action"] for e in env.ok("audit", "query", "--entity", item)]
    assert actions == ["review.claimed", "review.resolved"]


def test_review_bad_input(env: Env) -> None:
    opened = env.open_gated()
    item = add_review(env, opened["case"])
    one_line_error(env.run("review", "claim", "urn:review:rv-none"), 3)
    one_line_error(env.run("review", "claim", "rv-1"), 2)
    one_line_error(env.run("review", "claim", item, airline="TAM"), 3)
    one_line_error(env.run("review", "resolve", item, "--resolution", ""), 2)
    one_line_error(env.run("review", "resolve", item, "--resolution", "x"), 4)  # not claimed
    one_line_error(env.run("review", "list", "--state", "DONE"), 2)
    assert env.ok("review", "list", airline="TAM") == []


# ----------------------------------------------------------------------------- audit


def test_audit_query_filters_by_action_entity_correlation_time_and_limit(env: Env) -> None:
    opened = env.open_gated()
    demand = opened["demand"]["demand"]
    env.ok("demand", "approve", demand, "--reason", "ok")
    everything = env.ok("audit", "query")
    actions = [e["action"] for e in everything]
    assert actions == ["policy.ad-hoc", "case.opened", "demand.approved"]
    assert [e["entity"] for e in env.ok("audit", "query", "--action", "demand.approved")] == [
        demand
    ]
    assert len(env.ok("audit", "query", "--entity", opened["case"])) == 1
    corr = everything[1]["correlation"]
    by_correlation = env.ok("audit", "query", "--correlation", corr)
    assert [e["action"] for e in by_correlation] == ["policy.ad-hoc", "case.opened"]
    assert len(env.ok("audit", "query", "--limit", "1")) == 1
    assert env.ok("audit", "query", "--since", "2999-01-01T00:00:00Z") == []
    assert len(env.ok("audit", "query", "--until", "2999-01-01T00:00:00Z")) == 3
    assert env.ok("audit", "query", airline="TAM") == []


def test_audit_query_bad_input(env: Env) -> None:
    one_line_error(env.run("audit", "query", "--since", "yesterday"), 2)
    one_line_error(env.run("audit", "query", "--limit", "0"), 2)
    one_line_error(env.run("audit", "query", "--entity", "case-1"), 2)
    one_line_error(env.run("audit", "query", "--correlation", "urn:case:c-1"), 2)
    since_after_until = env.run(
        "audit", "query", "--since", "2026-02-01T00:00Z", "--until", "2026-01-01T00:00Z"
    )
    one_line_error(since_after_until, 2)


def test_case_show_timeline_has_the_cases_review_entries_and_not_another_cases(
    env: Env,
) -> None:
    opened = env.open_gated()
    other_manifest = env.tmp / "other.json"
    other_manifest.write_text(json.dumps(synthetic_manifest("SCL", 6, seed=2)), "utf-8")
    other = env.ok("case", "open", "--manifest", str(other_manifest))
    assert other["case"] != opened["case"]
    item = add_review(env, opened["case"])
    env.ok("review", "claim", item)
    shown = env.ok("case", "show", opened["case"], "--limit", "1")
    assert shown["timeline_total"] == 3  # policy.ad-hoc, case.opened, review.claimed
    assert [(e["action"], e["entity"]) for e in shown["timeline"]] == [("review.claimed", item)]
    assert shown["open_reviews"] == 1
    theirs = env.ok("case", "show", other["case"])
    assert [e["action"] for e in theirs["timeline"]] == ["policy.ad-hoc", "case.opened"]
    assert theirs["timeline"][1]["entity"] == other["case"]


def test_unusable_store_or_engine_url_is_a_configuration_error(env: Env) -> None:
    args = ("case", "open", "--manifest", str(env.manifest))
    one_line_error(runner.invoke(app, [*args, "--store-url", "bogus://x", "--airline", "LAN"]), 6)
    one_line_error(env.run(*args, "--engine-url", "bogus://x"), 6)
    one_line_error(
        runner.invoke(app, ["case", "list", "--store-url", "bogus://x", "--airline", "LAN"]), 6
    )
