"""``nexa policy synthesize`` from the outside, and the opt-in LLM synthesizer (respx)."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
import respx
from typer.testing import CliRunner

from nexa_adapters.synthesis import ChatCompletionsSynthesizer, synthesize_draft
from nexa_cli.app import app
from nexa_core.errors import MalformedResponseError
from nexa_core.policy import PolicyService
from nexa_core.runtime import FixedClock, SequentialIds
from nexa_core.tenancy import TenantContext
from nexa_core.urn import Urn
from tests.adapters.http.conftest import adapter_options

ROOT = Path(__file__).resolve().parents[2]
SCL_POLICY = str(ROOT / "examples" / "policies" / "scl-default.yaml")
TEXT = (
    "Economy: 3-star within 20 km, up to USD 120 a night, three meals of USD 15; "
    "business gets 4 stars and a private car"
)
runner = CliRunner()
LAN = TenantContext.system(Urn("airline", "LAN"))


def test_synthesize_prints_the_draft_and_its_diff_against_a_policy_file(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'n.db'}"
    result = runner.invoke(
        app,
        ["policy", "synthesize", "--text", TEXT, "--airline", "LAN", "--airport", "SCL",
         "--country", "CL", "--against", SCL_POLICY, "--store-url", db, "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["confidence"] == 1.0 and out["warnings"] == []
    assert out["policy"]["context"] == {"airline": "LAN", "airport": "SCL", "country": "CL"}
    diff = {row["field"]: (row["active"], row["draft"]) for row in out["diff"]}
    assert diff["constraints.ECONOMY.max_distance_km"] == (25.0, 20.0)
    assert diff["constraints.BUSINESS.max_nightly_rate.amount"] == ("350", None)
    assert diff["meals.allowance.ECONOMY"] == ("25", "45")
    assert "constraints.ECONOMY.min_stars" not in diff  # 3 in both


def test_synthesize_diffs_against_the_active_stored_policy_and_never_activates(
    tmp_path: Path,
) -> None:
    import anyio

    db = f"sqlite:///{tmp_path / 'n.db'}"
    anyio.run(_store_active_policy, db)
    result = runner.invoke(
        app, ["policy", "synthesize", "--text", TEXT, "--airline", "LAN", "--store-url", db]
    )
    assert result.exit_code == 0, result.output
    assert "diff against active 'LAN economy'" in result.stdout
    assert "constraints.ECONOMY.min_stars: 2 -> 3" in result.stdout
    assert "not activated" in result.stdout
    anyio.run(_only_the_stored_version, db)


async def _only_the_stored_version(db: str) -> None:
    from nexa_adapters.sql.store import SqlStore
    from nexa_core.model import PolicyState

    store = SqlStore.from_url(db)
    try:
        records = await store.policies.find(LAN)
        assert [(r.name, r.state) for r in records] == [("LAN economy", PolicyState.ACTIVE)]
    finally:
        await store.close()


async def _store_active_policy(db: str) -> None:
    from nexa_adapters.documents.policy import parse_policy
    from nexa_adapters.sql.store import SqlStore

    store = SqlStore.from_url(db)
    service = PolicyService(store, clock=FixedClock(), ids=SequentialIds())
    active = parse_policy({"name": "LAN economy", "context": {"airline": "LAN"}, "tiers": ["ECONOMY", "BUSINESS"],
                           "currency": "USD", "constraints": {"ECONOMY": {"minStars": 2}}})  # fmt: skip
    record = await service.create_draft(LAN, active)
    await service.activate(LAN, record.urn, reason="test")
    await store.close()


def test_nothing_recognisable_gives_confidence_zero_and_exit_0(tmp_path: Path) -> None:
    text_file = tmp_path / "rules.txt"
    text_file.write_text("Nuestros pasajeros merecen lo mejor.", encoding="utf-8")
    result = runner.invoke(
        app,
        ["policy", "synthesize", "--file", str(text_file), "--airline", "LAN",
         "--store-url", f"sqlite:///{tmp_path / 'n.db'}", "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["confidence"] == 0.0
    assert out["warnings"][0]["field"] == "$"


def test_synthesize_needs_exactly_one_source(tmp_path: Path) -> None:
    result = runner.invoke(app, ["policy", "synthesize", "--airline", "LAN"])
    assert result.exit_code == 2
    assert result.stderr.startswith("error: give exactly one of --text or --file")


# ----------------------------------------------------------------- the LLM adapter

BASE = "https://llm.test/v1"
ENV = {"NEXA_SECRET__LAN__LLM__API_KEY": "sk-test-1"}


def _completion(content: str) -> dict[str, object]:
    """The OpenAI chat-completions response shape (id, object, created, model, choices[],
    usage) with the assistant's message content."""
    return {
        "id": "chatcmpl-1", "object": "chat.completion", "created": 1777000000, "model": "policy-model-1",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 300, "completion_tokens": 120, "total_tokens": 420},
    }  # fmt: skip


@pytest.mark.anyio
async def test_the_llm_draft_passes_the_same_schema() -> None:
    answer = {
        "policy": {"name": "LLM draft", "tiers": ["ECONOMY"], "currency": "USD",
                   "constraints": {"ECONOMY": {"minStars": 3, "maxDistanceKm": 20}}},
        "confidence": 0.8,
        "warnings": [{"field": "meals", "message": "meal amount unclear"}],
    }  # fmt: skip
    with respx.mock() as mock:
        route = mock.post(f"{BASE}/chat/completions").mock(
            return_value=httpx.Response(200, json=_completion(json.dumps(answer)))
        )
        synth = ChatCompletionsSynthesizer(
            model="policy-model-1", base_url=BASE, **adapter_options(ENV)
        )
        draft = await synthesize_draft(synth, LAN, TEXT, {"airport": "SCL"})
    sent = json.loads(route.calls[0].request.content)
    assert route.calls[0].request.headers["authorization"] == "Bearer sk-test-1"
    assert sent["model"] == "policy-model-1" and sent["temperature"] == 0
    assert sent["response_format"] == {"type": "json_object"}
    assert json.loads(sent["messages"][1]["content"])["description"] == TEXT
    assert (draft.source, draft.model_version, draft.confidence) == ("llm", "policy-model-1", 0.8)
    assert draft.policy.constraints_for(draft.policy.tiers.__iter__().__next__()).min_stars == 3
    assert draft.warnings == ({"field": "meals", "message": "meal amount unclear"},)


@pytest.mark.anyio
@pytest.mark.parametrize(
    "content",
    [
        "not json at all",
        json.dumps(
            {
                "policy": {
                    "name": "x",
                    "tiers": ["ECONOMY"],
                    "constraints": {"ECONOMY": {"minStars": 9}},
                },
                "confidence": 0.9,
            }
        ),
        json.dumps({"policy": {"name": "x", "tiers": ["ECONOMY"]}, "confidence": 7}),
    ],
    ids=["not-json", "schema-violation", "bad-confidence"],
)
async def test_an_llm_answer_that_fails_the_schema_is_refused(content: str) -> None:
    with respx.mock() as mock:
        mock.post(f"{BASE}/chat/completions").mock(
            return_value=httpx.Response(200, json=_completion(content))
        )
        synth = ChatCompletionsSynthesizer(model="m", base_url=BASE, **adapter_options(ENV))
        with pytest.raises(MalformedResponseError):
            await synthesize_draft(synth, LAN, TEXT)


def test_the_llm_synthesizer_is_off_by_default() -> None:
    from nexa_adapters.settings import Settings

    assert Settings.load(env={}).policy_synthesizer == "rules"
