"""An OpenAI-compatible chat-completions endpoint as a :class:`PolicySynthesizer` (off by
default: set ``NEXA_POLICY_SYNTHESIZER=llm`` with ``NEXA_SYNTHESIZER_URL`` and
``NEXA_SYNTHESIZER_MODEL``; the key is the tenant's secret ``llm/api_key``).

``POST {base}/chat/completions`` with ``{"model", "messages", "temperature": 0,
"response_format": {"type": "json_object"}}``; the answer's
``choices[0].message.content`` must be a JSON object ``{"policy", "confidence",
"warnings"}``. Its output passes the same policy schema as every draft
(:func:`nexa_adapters.synthesis.service.validate_draft`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from nexa_adapters.http._base import HttpAdapter
from nexa_adapters.http._resilience import parse_json, parse_model
from nexa_core.errors import MalformedResponseError
from nexa_core.tenancy import TenantContext

__all__ = ["SYSTEM_PROMPT", "ChatCompletionsSynthesizer"]

SYSTEM_PROMPT = (
    "You turn an airline's description of its disruption-care rules into a Nexa policy "
    'document. Answer with one JSON object: {"policy": <policy>, "confidence": <0..1>, '
    '"warnings": [{"field": <path>, "message": <text>}]}. The policy has camelCase '
    "keys: name, context {airline, airport, country}, tiers [ECONOMY, PREMIUM_ECONOMY, "
    "BUSINESS, FIRST, CREW], currency, constraints per tier {minStars 1-5, maxDistanceKm, "
    "maxNightlyRate, requiredAmenities, excludedChains}, meals {allowance per tier, "
    "schedule single|drops}, transport {perTier {dispatch AUTOMATIC|ON_DEMAND|MANUAL, "
    "vehicle SHUTTLE|PRIVATE_CAR}}, buffers, autoApproveDemand, maxAutomaticRoomsPerWave, "
    "regulations. Leave out what the text does not say and add a warning for anything you "
    "could not read; never invent chain ids (use <NAME>_PLACEHOLDER and warn)."
)


class _M(BaseModel):
    model_config = ConfigDict(extra="ignore")


class _Message(_M):
    content: str | None = None


class _Choice(_M):
    message: _Message


class _Completion(_M):
    model: str = ""
    choices: list[_Choice] = Field(min_length=1)


class ChatCompletionsSynthesizer(HttpAdapter):
    """Drafts from an OpenAI-compatible ``/chat/completions`` endpoint."""

    vendor = "llm"
    default_base_url = "http://127.0.0.1:0/v1"

    def __init__(self, *, model: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.model = model

    async def synthesize(
        self, tenant: TenantContext, description: str, context: Mapping[str, str]
    ) -> Mapping[str, Any]:
        """Ask the model; the parsed object (validated by the caller against the schema)."""
        airline = tenant.airline_urn

        async def headers() -> dict[str, str]:
            return {"Authorization": f"Bearer {(await self.secret(airline, 'api_key')).reveal()}"}

        body = {
            "model": self.model,
            "temperature": 0,
            "response_format": {"type": "json_object"},
            "messages": [
                {"role": "system", "content": SYSTEM_PROMPT},
                {
                    "role": "user",
                    "content": json.dumps(
                        {"description": description, "context": {"airline": airline.id, **context}}
                    ),
                },
            ],
        }
        response = await self.http.request(
            "POST",
            "/chat/completions",
            tenant=airline,
            operation="chat.completions",
            headers=headers,
            json=body,
        )
        completion = parse_model(
            _Completion,
            parse_json(response, self.vendor, "chat.completions"),
            self.vendor,
            "chat.completions",
        )
        content = completion.choices[0].message.content or ""
        try:
            answer = json.loads(content)
        except json.JSONDecodeError:
            raise MalformedResponseError(
                "llm chat.completions: the message is not a JSON object", vendor=self.vendor
            ) from None
        if not isinstance(answer, dict):
            raise MalformedResponseError(
                "llm chat.completions: the message is not a JSON object", vendor=self.vendor
            )
        return {
            "source": "llm",
            "modelVersion": completion.model or self.model,
            "confidence": answer.get("confidence", 0.0),
            "policy": answer.get("policy"),
            "warnings": answer.get("warnings", []),
        }
