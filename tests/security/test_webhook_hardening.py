"""Signed but hostile webhook bodies: always WebhookVerificationError, never a crash.

The signature is valid in every example (the attacker is a compromised or buggy partner),
so the body parser itself is what is fuzzed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import anyio
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nexa_adapters.http.cabify import CabifyRides
from nexa_adapters.http.uber import UberRides
from nexa_core.errors import WebhookVerificationError
from nexa_core.testing.providers import LAN
from tests.adapters.http.conftest import adapter_options

CABIFY_ENV = {
    "NEXA_SECRET__LAN__CABIFY__API_KEY": "cb-key",
    "NEXA_SECRET__LAN__CABIFY__REQUESTER_ID": "e9c7ba933d1611edb6126a4aaec3df3f",
    "NEXA_SECRET__LAN__CABIFY__WEBHOOK_SECRET": "cb-whsecret",
}
UBER_ENV = {
    "NEXA_SECRET__LAN__UBER__CLIENT_ID": "ub-cid",
    "NEXA_SECRET__LAN__UBER__CLIENT_SECRET": "ub-csecret",
    "NEXA_SECRET__LAN__UBER__WEBHOOK_SIGNING_KEY": "ub-signing-key",
}

scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=12))
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                [
                    "id",
                    "journey",
                    "state",
                    "created_at",
                    "meta",
                    "event_id",
                    "resource_id",
                    "status",
                    "x",
                ]
            ),
            inner,
            max_size=4,
        )
    ),
    max_leaves=12,
)
bodies = st.one_of(
    values.map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=64),
    st.sampled_from(
        [
            b"[" * 5000 + b"]" * 5000,
            b'{"id": "e", "journey": {"id": "r", "state": "hire"}, "created_at": 5}',
            b'{"id": "e", "journey": ["r"]}',
            b'{"id": NaN, "journey": {"id": "r", "state": "hire"}}',
            b'{"event_id": "e", "meta": {"resource_id": "r", "status": 7}}',
            b'{"a": "' + b"x" * 300_000 + b'"}',
        ]
    ),
)


def _cabify(body: bytes) -> dict[str, str]:
    digest = hmac.new(b"cb-whsecret", body, hashlib.sha256).hexdigest()
    return {"X-Cabify-Signature": f"sha256={digest}"}


def _uber(body: bytes) -> dict[str, str]:
    return {"X-Uber-Signature": hmac.new(b"ub-signing-key", body, hashlib.sha256).hexdigest()}


ADAPTERS: list[tuple[Any, Any]] = [
    (lambda: CabifyRides(**adapter_options(CABIFY_ENV)), _cabify),
    (lambda: UberRides(**adapter_options(UBER_ENV)), _uber),
]


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(bodies, st.sampled_from(range(len(ADAPTERS))))
def test_signed_hostile_bodies_are_a_verification_error(body: bytes, which: int) -> None:
    make, sign = ADAPTERS[which]
    adapter = make()

    async def main() -> None:
        with pytest.raises(WebhookVerificationError):
            await adapter.verify_webhook(LAN, body, sign(body))

    anyio.run(main)
