"""OAuth2 client-credentials tokens cached per tenant until 60 s before expiry."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

import anyio
import attrs

from nexa_core.ports import Clock
from nexa_core.runtime import SystemClock
from nexa_core.urn import Urn

__all__ = ["REFRESH_MARGIN", "AccessToken", "TokenCache"]

#: A token is refreshed this long before it expires.
REFRESH_MARGIN = timedelta(seconds=60)


@attrs.frozen(repr=False)
class AccessToken:
    """A bearer token and when it expires (the value stays out of reprs)."""

    value: str
    expires_at: datetime

    def __repr__(self) -> str:
        return f"AccessToken(<redacted>, expires_at={self.expires_at.isoformat()})"


class TokenCache:
    """Per-tenant token cache; ``fetch(tenant)`` returns ``(token, expires_in seconds)``."""

    def __init__(
        self,
        fetch: Callable[[Urn], Awaitable[tuple[str, float]]],
        *,
        clock: Clock | None = None,
        margin: timedelta = REFRESH_MARGIN,
    ) -> None:
        self._fetch = fetch
        self._clock = clock or SystemClock()
        self._margin = margin
        self._tokens: dict[str, AccessToken] = {}
        self._locks: dict[str, anyio.Lock] = {}
        self.fetches = 0

    def __repr__(self) -> str:
        return f"TokenCache(tenants={len(self._tokens)})"

    async def token(self, tenant: Urn) -> str:
        """A token valid for at least ``margin`` more (fetches when needed)."""
        key = tenant.id
        lock = self._locks.setdefault(key, anyio.Lock())
        async with lock:
            cached = self._tokens.get(key)
            if cached is not None and self._clock.now() < cached.expires_at - self._margin:
                return cached.value
            value, expires_in = await self._fetch(tenant)
            self.fetches += 1
            self._tokens[key] = AccessToken(
                value, self._clock.now() + timedelta(seconds=expires_in)
            )
            return value

    async def invalidate(self, tenant: Urn) -> None:
        """Forget the tenant's token (after a 401)."""
        self._tokens.pop(tenant.id, None)
