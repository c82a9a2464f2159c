"""Retry policies per queue (seeds) and per tenant."""

from __future__ import annotations

import pytest

from nexa_adapters.engine.inprocess import InProcessEngine
from nexa_core.errors import InvalidInputError, ProviderUnavailableError
from nexa_core.saga import (
    DEFAULT_RETRY_POLICIES,
    Queue,
    RetryPolicy,
    SagaDefinition,
    SagaProgram,
    StepDef,
)


def test_the_seed_defaults_per_queue() -> None:
    p = DEFAULT_RETRY_POLICIES
    assert p.for_queue(Queue.ALLOCATION).delays() == (2.0, 4.0, 8.0)
    assert p.for_queue(Queue.BOOKING).delays() == (5.0, 10.0, 20.0, 40.0, 80.0)
    assert p.for_queue(Queue.PAYMENT).delays() == (3.0,) * 5
    assert p.for_queue(Queue.NOTIFICATION).delays() == (3.0,) * 5
    assert p.for_queue(Queue.AGENT).delays() == (0.0,)
    assert p.for_queue(Queue.TRANSPORT) == p.for_queue(Queue.BOOKING)
    assert RetryPolicy(5, 2.0, 2.0).delays() == (2.0, 4.0, 8.0, 16.0, 32.0)  # facts file


def test_overrides_replace_one_queue_and_reject_unknown_ones() -> None:
    tenant = DEFAULT_RETRY_POLICIES.with_overrides({"booking": RetryPolicy(2, 1.0)})
    assert tenant.for_queue(Queue.BOOKING).max_attempts == 3
    assert tenant.for_queue(Queue.PAYMENT) == DEFAULT_RETRY_POLICIES.for_queue(Queue.PAYMENT)
    with pytest.raises(InvalidInputError):
        DEFAULT_RETRY_POLICIES.with_overrides({"bookings": RetryPolicy(1, 1.0)})
    with pytest.raises(InvalidInputError):
        RetryPolicy(-1, 1.0)


@pytest.mark.anyio
async def test_a_tenant_override_changes_the_attempts_of_that_tenant_only() -> None:
    calls: dict[str, int] = {}

    async def flaky(state):  # type: ignore[no-untyped-def]
        calls[state["airline"]] = calls.get(state["airline"], 0) + 1
        raise ProviderUnavailableError("503")

    definition = SagaDefinition("t", 1, (StepDef("book", Queue.BOOKING),))
    fast = DEFAULT_RETRY_POLICIES.scaled(0.0)
    program = SagaProgram(
        definition,
        {"book": flaky},
        fast,
        {"urn:airline:TAM": fast.with_overrides({"booking": RetryPolicy(1, 0.0)})},
    )
    engine = InProcessEngine(time_scale=0.0)
    engine.register(program)
    await engine.run("t@1", "urn:sub-case:sc-1", {"airline": "urn:airline:LAN"})
    await engine.run("t@1", "urn:sub-case:sc-2", {"airline": "urn:airline:TAM"})
    assert calls == {"urn:airline:LAN": 6, "urn:airline:TAM": 2}
