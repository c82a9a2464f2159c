"""``nexa policy add|activate|history|resolve``, the version a case records, and operator
locks seen from the command line."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import anyio
import pytest
from typer.testing import CliRunner

from nexa_adapters.redis.coordination import RedisCoordination
from nexa_adapters.sandbox import synthetic_manifest
from nexa_cli.app import app
from nexa_cli.commands.case import open_store
from nexa_core.model import ManualReviewItem, ReviewCategory
from nexa_core.tenancy import TenantContext
from nexa_core.urn import Urn

runner = CliRunner()
POLICY = Path(__file__).resolve().parents[2] / "nexa_adapters" / "data" / "demo-policy.yaml"
LAN = TenantContext.system(Urn("airline", "LAN"))


class Env:
    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.store_url = f"sqlite:///{tmp / 'n.db'}"
        self.airline_wide = POLICY
        self.scl = tmp / "scl.yaml"
        self.scl.write_text(
            POLICY.read_text("utf-8")
            .replace("name: Demo hub closure", "name: LAN Chile hub")
            .replace("context: {airline: LAN}", "context: {airline: LAN, airport: SCL}"),
            "utf-8",
        )

    def manifest(self, seed: int) -> str:
        path = self.tmp / f"m{seed}.json"
        path.write_text(json.dumps(synthetic_manifest("SCL", 8, seed=seed)), "utf-8")
        return str(path)

    def run(self, *args: str, config: str | None = None) -> Any:
        argv = [*args, "--store-url", self.store_url, "--airline", "LAN"]
        if config:
            argv += ["--config", config]
        return runner.invoke(app, argv)

    def ok(self, *args: str, config: str | None = None) -> Any:
        result = self.run(*args, "--json", config=config)
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Env:
    for var in ("NEXA_AIRLINE", "NEXA_ROLE", "NEXA_USER", "NEXA_STORE_URL", "NEXA_ENGINE_URL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NEXA_CONFIG", str(tmp_path / "absent.toml"))
    return Env(tmp_path)


def test_resolve_prints_the_version_the_next_case_records_and_activation_switches_it(
    env: Env,
) -> None:
    nothing = env.run("policy", "resolve", "--airport", "SCL")
    assert nothing.exit_code == 1 and "none" in nothing.stdout
    [wide] = env.ok("policy", "add", str(env.airline_wide), "--activate")
    assert (wide["state"], wide["version"]) == ("ACTIVE", 1)
    [scl] = env.ok("policy", "add", str(env.scl))
    assert scl["state"] == "DRAFT"  # a draft has no effect
    before = env.ok("policy", "resolve", "--airport", "SCL")
    assert before["next_case"]["policy"] == wide["policy"]
    assert before["next_case"]["rule"] == "airline+tier"
    first = env.ok("case", "open", "--manifest", env.manifest(1))
    assert first["policy"]["policy"] == wide["policy"]

    activated = env.ok("policy", "activate", scl["policy"], "--reason", "SCL hub rules")
    assert activated["state"] == "ACTIVE"
    after = env.run("policy", "resolve", "--airport", "SCL")
    assert after.exit_code == 0
    assert after.stdout.startswith(f"next case at SCL: {scl['policy']} 'LAN Chile hub' v1")
    second = env.ok("case", "open", "--manifest", env.manifest(2))
    assert second["policy"]["policy"] == scl["policy"]
    shown = env.ok("case", "show", first["case"])
    assert shown["case"]["policy"] == wide["policy"]  # the first case keeps its version

    history = env.ok("policy", "history")
    assert [(v["name"], v["state"]) for v in history] == [
        ("Demo hub closure", "ACTIVE"),
        ("LAN Chile hub", "ACTIVE"),
    ]
    trail = env.ok("policy", "history", scl["policy"])
    assert [e["action"] for e in trail["trail"]] == ["policy.create", "policy.activate"]
    assert trail["trail"][1]["reason"] == "SCL hub rules"

    report = env.ok("case", "report", second["case"], "--html", str(env.tmp / "r.html"))
    assert report["policy"]["policy"] == scl["policy"]
    assert "LAN Chile hub v1" in (env.tmp / "r.html").read_text("utf-8")


def test_an_explicit_policy_file_is_an_ad_hoc_version_and_no_active_policy_falls_back(
    env: Env,
) -> None:
    fallback = env.run("case", "open", "--manifest", env.manifest(1), "--json")
    assert fallback.exit_code == 0, fallback.output
    assert "packaged demo policy" in fallback.stderr
    assert json.loads(fallback.stdout)["policy"]["state"] == "AD_HOC"
    explicit = env.ok("case", "open", "--manifest", env.manifest(2), "--policy", str(env.scl))
    again = env.ok("case", "open", "--manifest", env.manifest(3), "--policy", str(env.scl))
    assert explicit["policy"]["state"] == "AD_HOC" and explicit["policy"] == again["policy"]
    states = [v["state"] for v in env.ok("policy", "history")]
    assert states == ["AD_HOC", "AD_HOC"]  # the packaged policy and the file, once each
    refused = env.run("policy", "activate", explicit["policy"]["policy"])
    assert refused.exit_code == 4 and "AD_HOC" in refused.stderr


def test_policy_commands_reject_bad_input_in_one_line(env: Env) -> None:
    bad = env.tmp / "bad.yaml"
    bad.write_text("name: x\ntiers: [NOPE]\n", "utf-8")
    assert env.run("policy", "add", str(bad)).exit_code == 2
    assert env.run("policy", "activate", "urn:case:c-1").exit_code == 2
    assert env.run("policy", "activate", "urn:policy:p-missing").exit_code == 3
    assert env.run("policy", "resolve", "--airport", "XXX").exit_code == 2
    operator = env.run("policy", "add", str(env.scl), "--as-role", "AIRPORT_OPERATOR")
    assert operator.exit_code == 5  # supervisors add and activate


def _add_review(env: Env, case_urn: str) -> tuple[str, str]:
    async def main() -> tuple[str, str]:
        store = open_store(env.store_url)
        try:
            subs = await store.sub_cases.find(LAN, case_urn=Urn.parse(case_urn))
            item = ManualReviewItem(
                Urn("review", "rv-lock"),
                LAN.airline_urn,
                Urn.parse(case_urn),
                ReviewCategory.BOOKING_FAILED,
                "every hotel refused",
                (subs[0].group.group_id,),
            )
            await store.reviews.add(LAN, item)
            return str(item.urn), str(subs[0].urn)
        finally:
            await store.close()

    return anyio.run(main)


@pytest.mark.redis
def test_a_second_operator_is_told_who_holds_the_lock_and_since_when(
    env: Env, redis_url: str
) -> None:
    prefix = f"nexa-test-{uuid.uuid4().hex[:8]}"
    config = env.tmp / "nexa.toml"
    config.write_text(f'[nexa]\ncoordination_url = "{redis_url}?prefix={prefix}"\n', "utf-8")
    opened = env.ok("case", "open", "--manifest", env.manifest(1))
    review, sub_case = _add_review(env, opened["case"])

    async def hold() -> Any:  # another operator's command holds the sub-case (another process)
        coordination = RedisCoordination.from_url(f"{redis_url}?prefix={prefix}")
        grant = await coordination.locks.acquire(
            LAN, Urn.parse(sub_case), "urn:user:u-ana", ttl=timedelta(seconds=60)
        )
        await coordination.close()
        return grant

    grant = anyio.run(hold)
    refused = env.run("review", "claim", review, "--user", "u-bob", config=str(config))
    assert refused.exit_code == 4
    since = grant.acquired_at.strftime("%Y-%m-%d %H:%M:%SZ")
    assert refused.stderr.strip() == f"error: {sub_case} is locked by u-ana since {since}"
    dispatch = env.run(
        "care", "dispatch", sub_case, "--vendor", "sandbox", "--user", "u-bob", config=str(config)
    )
    assert dispatch.exit_code == 4
    assert dispatch.stderr.strip() == f"error: {sub_case} is locked by u-ana since {since}"

    async def redis(action: str) -> None:
        coordination = RedisCoordination.from_url(f"{redis_url}?prefix={prefix}")
        try:
            if action == "release":
                await coordination.locks.release(LAN, grant)
            else:  # drop every key of this test
                client = coordination.client
                keys = [k async for k in client.scan_iter(match=f"{prefix}:*", count=500)]
                if keys:
                    await client.delete(*keys)
        finally:
            await coordination.close()

    try:
        anyio.run(redis, "release")
        claimed = env.ok("review", "claim", review, "--user", "u-bob", config=str(config))
        assert claimed["state"] == "CLAIMED"
        second = env.run("review", "resolve", review, "--user", "u-ana", "--resolution", "x")
        assert second.exit_code == 4 and "is locked by u-bob since" in second.stderr
    finally:
        anyio.run(redis, "drop")


def test_rebook_starts_a_new_saga_at_a_chosen_offer_under_the_operators_lock(env: Env) -> None:
    from nexa_adapters.bootstrap import bootstrap
    from nexa_adapters.documents import parse_manifest
    from nexa_adapters.engine import build_orchestrator
    from nexa_adapters.settings import Settings
    from nexa_core.auth import Principal, PrincipalKind, Role
    from nexa_core.model import SubCaseStatus

    supervisor = Principal(
        PrincipalKind.OPERATOR,
        Urn("user", "u-setup"),
        LAN.airline_urn,
        frozenset({Role.OPS_SUPERVISOR}),
    )
    manifest = parse_manifest(json.loads(Path(env.manifest(1)).read_text("utf-8")))

    async def failed_bookings() -> tuple[str, str, list[str]]:
        settings = Settings.load(env={}, store_url=env.store_url, engine_url="inprocess://")
        nexa = bootstrap(settings, provider_options={"engine_time_scale": 0.0})
        from nexa_adapters.demo import demo_policy

        orch, _ = build_orchestrator(nexa, policy=demo_policy())
        await nexa.engine.launch()
        try:
            opened = await orch.open_case(manifest, principal=supervisor)
            wave = await orch.run_allocation(opened.case.urn, principal=supervisor)
            nexa.booking.for_vendor("sandbox").faults.permanent_rate = 1.0  # every hotel says no
            ids = await orch.book_sub_cases(opened.case.urn, wave.wave.urn, principal=supervisor)
            await orch.wait(ids, principal=supervisor)
            items = await nexa.store.reviews.find(LAN, case_urn=opened.case.urn)
            item = next(i for i in items if i.category.value == "BOOKING_FAILED")
            subs = await nexa.store.sub_cases.find(LAN, case_urn=opened.case.urn)
            sub = next(s for s in subs if s.group.group_id in item.affected_groups)
            offers = [o["urn"] for o in wave.wave.plan["assigned"][sub.group.group_id]]
            return str(item.urn), str(sub.urn), offers
        finally:
            await nexa.aclose()

    review, sub_case, offers = anyio.run(failed_bookings)
    assert (
        env.run("review", "rebook", review, "--sub-case", sub_case, "--offer", offers[0]).exit_code
        == 4
    )  # claim first
    env.ok("review", "claim", review, "--user", "u-ana")
    other = env.run(
        "review", "rebook", review, "--sub-case", sub_case, "--offer", offers[0], "--user", "u-bob"
    )
    assert other.exit_code == 4 and "is locked by u-ana since" in other.stderr
    unknown = env.run(
        "review",
        "rebook",
        review,
        "--sub-case",
        sub_case,
        "--offer",
        "urn:offer:nope",
        "--user",
        "u-ana",
    )
    assert unknown.exit_code == 3 and "not among the" in unknown.stderr
    done = env.ok(
        "review", "rebook", review, "--sub-case", sub_case, "--offer", offers[-1], "--user", "u-ana"
    )
    assert done["status"] == SubCaseStatus.OFFER_READY.value
    trail = env.ok("audit", "query", "--entity", review)
    assert [e["action"] for e in trail] == ["review.claimed", "review.rebook"]
