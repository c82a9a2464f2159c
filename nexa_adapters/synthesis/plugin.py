"""Built-in ``synthesis`` plugin: the rule-based synthesizer and the optional LLM one."""

from __future__ import annotations

from typing import Any

from nexa_adapters.hookspecs import Register, hookimpl
from nexa_adapters.http._base import adapter_kwargs
from nexa_adapters.synthesis.llm import ChatCompletionsSynthesizer
from nexa_core.errors import ConfigurationError
from nexa_core.policy.synthesis import RuleBasedSynthesizer


def _llm(**options: Any) -> ChatCompletionsSynthesizer:
    settings = options.get("settings")
    url = options.get("synthesizer_url") or getattr(settings, "synthesizer_url", None)
    model = options.get("synthesizer_model") or getattr(settings, "synthesizer_model", None)
    if not url or not model:
        raise ConfigurationError(
            "the llm synthesizer needs NEXA_SYNTHESIZER_URL and NEXA_SYNTHESIZER_MODEL"
        )
    return ChatCompletionsSynthesizer(model=model, base_url=url, **adapter_kwargs(options))


@hookimpl
def nexa_register_policy_synthesizers(register: Register) -> None:
    """``rules`` (default, deterministic) and ``llm`` (OpenAI-compatible, opt-in)."""
    register("rules", lambda **o: RuleBasedSynthesizer())
    register("llm", _llm)
