"""Partner protection: every provider call passes the cluster-wide rate limit and breaker.

``PartnerGate.call(partner, operation, fn)`` asks the breaker of ``partner`` first (an open
breaker raises a *non-retryable* :class:`CircuitOpenError`, so a saga moves on to the next
provider instead of waiting), then takes a token from the shared bucket
``<partner>.<operation>``, runs the call and feeds transient failures back to the breaker.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import TypeVar

import attrs

from nexa_core.errors import CircuitOpenError, TransientProviderError
from nexa_core.ports import Coordination

__all__ = ["DEFAULT_PARTNER_RATES", "PartnerGate"]

T = TypeVar("T")

#: Calls per second per operation when a partner has no explicit limit.
DEFAULT_PARTNER_RATES: Mapping[str, float] = {
    "booking": 5.0,
    "cancel": 5.0,
    "card": 10.0,
    "transport": 5.0,
    "notification": 20.0,
}


@attrs.frozen
class PartnerGate:
    """Rate limit + circuit breaker around provider calls (over the Coordination port)."""

    coordination: Coordination
    rates: Mapping[str, float] = DEFAULT_PARTNER_RATES
    overrides: Mapping[str, float] = attrs.field(factory=dict)  # "<partner>.<op>" → rate
    deadline_s: float = 10.0

    def rate(self, partner: str, operation: str) -> float:
        """Calls per second allowed for ``partner.operation``."""
        return self.overrides.get(f"{partner}.{operation}", self.rates.get(operation, 5.0))

    async def allowed(self, partner: str) -> bool:
        """Whether the breaker of ``partner`` lets calls through now."""
        return await self.coordination.breakers.allow(partner)

    async def call(self, partner: str, operation: str, fn: Callable[[], Awaitable[T]]) -> T:
        """Run ``fn`` under the breaker and rate limit of ``partner``."""
        if not await self.coordination.breakers.allow(partner):
            raise CircuitOpenError(
                f"circuit open for {partner}; trying other providers",
                retryable=False,
                vendor=partner,
            )
        rate = self.rate(partner, operation)
        await self.coordination.rate_limits.acquire(
            f"{partner}.{operation}", rate=rate, burst=max(1, int(rate)), deadline=self.deadline_s
        )
        try:
            result = await fn()
        except TransientProviderError:
            await self.coordination.breakers.record(partner, success=False)
            raise
        await self.coordination.breakers.record(partner, success=True)
        return result
