"""Policy drafts from text: run a synthesizer, validate its draft, diff it against a policy.

Every synthesizer's output — the rules' or a language model's — passes the same policy
schema (:func:`nexa_adapters.documents.policy.parse_policy`) before anyone sees it; a
draft that fails raises :class:`MalformedResponseError` with the schema's problems.
Nothing here stores or activates a policy.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import attrs

from nexa_adapters.documents.policy import parse_policy
from nexa_core.errors import InvalidInputError, MalformedResponseError, PolicyValidationError
from nexa_core.policy import Policy
from nexa_core.ports import PolicySynthesizer
from nexa_core.serialization import unstructure
from nexa_core.tenancy import TenantContext

__all__ = ["MAX_DESCRIPTION", "PolicyDraft", "policy_diff", "synthesize_draft", "validate_draft"]

MAX_DESCRIPTION = 20_000


@attrs.frozen
class PolicyDraft:
    """A validated draft: the document, its policy, confidence and per-field warnings."""

    source: str
    model_version: str
    confidence: float
    document: Mapping[str, Any]
    policy: Policy
    warnings: tuple[Mapping[str, str], ...]

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape (``source``, ``modelVersion``, ``confidence``, ``policy``, ``warnings``)."""
        return {
            "source": self.source,
            "modelVersion": self.model_version,
            "confidence": self.confidence,
            "policy": dict(self.document),
            "warnings": [dict(w) for w in self.warnings],
        }


def validate_draft(raw: Mapping[str, Any]) -> PolicyDraft:
    """Check a synthesizer's answer against the policy schema."""
    if not isinstance(raw, Mapping) or not isinstance(raw.get("policy"), Mapping):
        raise MalformedResponseError("the synthesizer answered without a policy object")
    confidence = raw.get("confidence", 0.0)
    if not isinstance(confidence, int | float) or not 0.0 <= float(confidence) <= 1.0:
        raise MalformedResponseError("the synthesizer's confidence is not a number in [0, 1]")
    warnings = raw.get("warnings", [])
    if not isinstance(warnings, list) or not all(
        isinstance(w, Mapping) and isinstance(w.get("message"), str) for w in warnings
    ):
        raise MalformedResponseError("the synthesizer's warnings are not {field, message} objects")
    try:
        policy = parse_policy(dict(raw["policy"]))
    except PolicyValidationError as exc:
        problems = list(exc.context.get("problems", [str(exc)]))
        raise MalformedResponseError(
            f"the draft fails the policy schema: {problems[0]}", problems=problems
        ) from None
    return PolicyDraft(
        source=str(raw.get("source", "unknown")),
        model_version=str(raw.get("modelVersion", "")),
        confidence=round(float(confidence), 2),
        document=dict(raw["policy"]),
        policy=policy,
        warnings=tuple(
            {"field": str(w.get("field", "$")), "message": str(w["message"])} for w in warnings
        ),
    )


async def synthesize_draft(
    synthesizer: PolicySynthesizer,
    tenant: TenantContext,
    description: str,
    context: Mapping[str, str] | None = None,
) -> PolicyDraft:
    """Synthesize a draft from ``description`` and validate it (never activates)."""
    if not description.strip():
        raise InvalidInputError("the policy description is empty", field="text")
    if len(description) > MAX_DESCRIPTION:
        raise InvalidInputError(
            f"the description is longer than {MAX_DESCRIPTION} characters", field="text"
        )
    raw = await synthesizer.synthesize(tenant, description, dict(context or {}))
    return validate_draft(raw)


def _plain(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    return value


def _flatten(value: Any, path: str, out: dict[str, Any]) -> None:
    if isinstance(value, Mapping):
        if not value:
            out[path] = {}
        for k in sorted(value, key=lambda k: str(_plain(k))):
            key = str(_plain(k))
            _flatten(value[k], f"{path}.{key}" if path else key, out)
    elif isinstance(value, list | tuple | set | frozenset):
        out[path] = sorted(str(_plain(v)) for v in value)
    else:
        out[path] = _plain(value)


def policy_diff(draft: Policy, active: Policy | None) -> list[dict[str, Any]] | None:
    """Fields that differ, as ``{"field", "active", "draft"}`` (None without an active
    policy: the whole draft is new)."""
    if active is None:
        return None
    new: dict[str, Any] = {}
    old: dict[str, Any] = {}
    _flatten(unstructure(draft), "", new)
    _flatten(unstructure(active), "", old)
    rows = []
    for key in sorted(set(new) | set(old)):
        if key == "name":
            continue
        a, d = old.get(key), new.get(key)
        if a != d:
            rows.append({"field": key, "active": a, "draft": d})
    return rows
