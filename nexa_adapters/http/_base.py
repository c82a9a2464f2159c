"""What every HTTP partner adapter shares: credentials, the client, replay memory."""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import httpx

from nexa_adapters.http._resilience import Classifier, ResilientClient, RetryPolicy
from nexa_adapters.secrets import EnvSecrets, Secret
from nexa_core.model import Money
from nexa_core.ports import (
    BookingConfirmation,
    CircuitBreakers,
    Clock,
    IdempotencyStore,
    RateLimiter,
    SecretsProvider,
)
from nexa_core.runtime import SystemClock
from nexa_core.tenancy import TenantContext
from nexa_core.urn import Urn

__all__ = ["HttpAdapter", "ReplayMemory", "adapter_kwargs"]


class ReplayMemory:
    """First results of idempotent partner calls, per (tenant, scope, key).

    In memory by default; give it the operational store's :class:`IdempotencyStore` to
    make replays survive restarts and span workers.
    """

    def __init__(self, store: IdempotencyStore | None = None) -> None:
        self._store = store
        self._local: dict[tuple[str, str, str], dict[str, Any]] = {}

    async def get(self, tenant: Urn, scope: str, key: str) -> dict[str, Any] | None:
        """The remembered result, if any."""
        if self._store is not None:
            rec = await self._store.lookup(TenantContext.system(tenant), scope, key)
            return dict(rec.result) if rec is not None else None
        found = self._local.get((str(tenant), scope, key))
        return dict(found) if found is not None else None

    async def put(self, tenant: Urn, scope: str, key: str, result: Mapping[str, Any]) -> None:
        """Remember ``result`` (the first one wins)."""
        if self._store is not None:
            await self._store.remember(TenantContext.system(tenant), scope, key, result)
            return
        self._local.setdefault((str(tenant), scope, key), dict(result))

    async def booking(self, tenant: Urn, scope: str, key: str) -> BookingConfirmation | None:
        """A remembered booking confirmation, marked ``replayed`` (None: first call)."""
        seen = await self.get(tenant, scope, key)
        if seen is None:
            return None
        return BookingConfirmation(
            reservation_urn=Urn.parse(seen["reservation_urn"]),
            confirmation_urn=Urn.parse(seen["confirmation_urn"]),
            total=Money(seen["total"], seen["currency"]),
            replayed=True,
        )

    async def remember_booking(
        self, tenant: Urn, scope: str, key: str, conf: BookingConfirmation
    ) -> None:
        """Remember a booking confirmation under its idempotency key."""
        await self.put(
            tenant,
            scope,
            key,
            {
                "reservation_urn": str(conf.reservation_urn),
                "confirmation_urn": str(conf.confirmation_urn),
                "total": str(conf.total.amount),
                "currency": conf.total.currency,
            },
        )


def adapter_kwargs(options: Mapping[str, Any]) -> dict[str, Any]:
    """Pick the shared adapter arguments out of bootstrap's factory options.

    Understood: ``secrets`` (a SecretsProvider; default :class:`EnvSecrets`),
    ``coordination`` (for ``rate_limits`` and ``breakers``), ``rate_limiter``,
    ``breakers``, ``idempotency`` (an IdempotencyStore), ``clock``, ``transport`` (an
    httpx transport, e.g. respx's in tests), ``retry_policy``, ``sleep``.
    """
    coord = options.get("coordination")
    return {
        "secrets": options.get("secrets"),
        "rate_limiter": options.get("rate_limiter")
        or (coord.rate_limits if coord is not None else None),
        "breakers": options.get("breakers") or (coord.breakers if coord is not None else None),
        "idempotency": options.get("idempotency"),
        "clock": options.get("clock"),
        "transport": options.get("transport"),
        "policy": options.get("retry_policy"),
        "sleep": options.get("sleep"),
    }


class HttpAdapter:
    """Base of the partner adapters (not a port itself)."""

    vendor: str = ""
    default_base_url: str = ""

    def __init__(
        self,
        *,
        base_url: str | None = None,
        secrets: SecretsProvider | None = None,
        rate_limiter: RateLimiter | None = None,
        breakers: CircuitBreakers | None = None,
        idempotency: IdempotencyStore | None = None,
        clock: Clock | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], Awaitable[None]] | None = None,
        rng: random.Random | None = None,
        name: str | None = None,
    ) -> None:
        self.name = name or self.vendor
        self.secrets: SecretsProvider = secrets or EnvSecrets()
        self.clock: Clock = clock or SystemClock()
        self.replays = ReplayMemory(idempotency)
        self.http = ResilientClient(
            self.vendor,
            base_url or self.default_base_url,
            policy=policy,
            rate_limiter=rate_limiter,
            breakers=breakers,
            classify=self.classify,
            transport=transport,
            sleep=sleep,
            rng=rng,
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, base_url={self.http.base_url!r})"

    @property
    def classify(self) -> Classifier | None:
        """The vendor's refinement of the error table (None: the generic table)."""
        return None

    async def secret(self, tenant: Urn, name: str) -> Secret:
        """``nexa/<tenant>/vendor/<vendor>/<name>`` wrapped so it cannot leak."""
        return Secret(await self.secrets.get(tenant, self.vendor, name))

    async def aclose(self) -> None:
        """Close the HTTP pool."""
        await self.http.aclose()
