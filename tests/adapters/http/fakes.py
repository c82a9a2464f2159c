"""Small fakes of the coordination ports (RateLimiter, CircuitBreakers) for adapter tests."""

from __future__ import annotations

from nexa_core.errors import RateLimitedError


class FakeRateLimiter:
    """Counts acquisitions per key; ``deny`` keys always time out."""

    def __init__(self, deny: set[str] | None = None) -> None:
        self.taken: dict[str, int] = {}
        self.deny = deny or set()

    async def try_acquire(self, key: str, *, rate: float, burst: int | None = None) -> bool:
        if key in self.deny:
            return False
        self.taken[key] = self.taken.get(key, 0) + 1
        return True

    async def acquire(
        self, key: str, *, rate: float, burst: int | None = None, deadline: float
    ) -> None:
        if not await self.try_acquire(key, rate=rate, burst=burst):
            raise RateLimitedError(f"local bucket {key} exhausted", retry_after=1.0 / rate)


class FakeBreakers:
    """Opens after ``threshold`` consecutive failures per key."""

    def __init__(self, threshold: int = 3) -> None:
        self.threshold = threshold
        self.failures: dict[str, int] = {}
        self.outcomes: list[tuple[str, bool]] = []

    async def allow(self, key: str) -> bool:
        return self.failures.get(key, 0) < self.threshold

    async def record(self, key: str, *, success: bool) -> None:
        self.outcomes.append((key, success))
        self.failures[key] = 0 if success else self.failures.get(key, 0) + 1

    async def state(self, key: str) -> str:
        return "closed" if await self.allow(key) else "open"
