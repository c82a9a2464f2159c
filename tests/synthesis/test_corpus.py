"""The rule-based synthesizer against a corpus of policy sentences in three languages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from nexa_adapters.synthesis import validate_draft
from nexa_core.policy.synthesis import synthesize_rules

CORPUS: list[dict[str, Any]] = yaml.safe_load(
    (Path(__file__).parent / "corpus.yaml").read_text(encoding="utf-8")
)


def test_the_corpus_has_at_least_40_sentences_in_three_languages() -> None:
    assert len(CORPUS) >= 40
    langs = {e["lang"] for e in CORPUS}
    assert langs == {"en", "es", "pt"}
    assert min(sum(e["lang"] == lang for e in CORPUS) for lang in langs) >= 13


@pytest.mark.parametrize("entry", CORPUS, ids=lambda e: f"{e['lang']}:{e['text'][:40]}")
def test_each_sentence_gives_its_expected_draft(entry: dict[str, Any]) -> None:
    draft = synthesize_rules(entry["text"], {"airline": "LAN"})
    policy = dict(draft["policy"])
    assert policy.pop("name") == "Draft from text"
    assert policy.pop("context") == {"airline": "LAN"}
    assert policy == entry["policy"]
    assert [w["field"] for w in draft["warnings"]] == entry.get("warns", [])
    if "confidence" in entry:
        assert draft["confidence"] == entry["confidence"]
    assert draft["confidence"] >= entry.get("min_confidence", 0.0)
    assert draft["confidence"] <= entry.get("max_confidence", 1.0)
    validated = validate_draft(draft)  # the same schema as policy files
    assert validated.policy.tiers == frozenset(entry["policy"]["tiers"])


def test_synthesis_is_deterministic() -> None:
    text = CORPUS[0]["text"]
    assert synthesize_rules(text) == synthesize_rules(text)
