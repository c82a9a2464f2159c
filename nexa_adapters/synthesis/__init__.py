"""Policy synthesis: drafts from text (rules by default, an LLM on request), validated."""

from nexa_adapters.synthesis.llm import ChatCompletionsSynthesizer
from nexa_adapters.synthesis.service import (
    PolicyDraft,
    policy_diff,
    synthesize_draft,
    validate_draft,
)

__all__ = [
    "ChatCompletionsSynthesizer",
    "PolicyDraft",
    "policy_diff",
    "synthesize_draft",
    "validate_draft",
]
