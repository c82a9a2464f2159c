"""Retry policies per queue (seeds: allocation, booking, payment, notification, agent, transport).

A policy is plain data an engine translates into its own retry settings. ``retries``
counts the attempts *after* the first one, so ``max_attempts == retries + 1``. Delays grow
``interval_s × backoff_rate^n`` (booking: 5, 10, 20, 40, 80 s; the facts file's 2 s → 32 s
schedule is ``RetryPolicy(5, 2.0, 2.0)``). Tenants override any queue with
:meth:`RetryPolicies.with_overrides`.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping

import attrs

from nexa_core.errors import InvalidInputError

__all__ = ["DEFAULT_RETRY_POLICIES", "Queue", "RetryPolicies", "RetryPolicy"]


class Queue(enum.StrEnum):
    """Work queues: each has its own retry policy (and, in a durable engine, its workers)."""

    ALLOCATION = "allocation"
    BOOKING = "booking"
    PAYMENT = "payment"
    TRANSPORT = "transport"
    NOTIFICATION = "notification"
    AGENT = "agent"
    SYSTEM = "system"


@attrs.frozen
class RetryPolicy:
    """How often and how patiently a step is retried after a transient error."""

    retries: int
    interval_s: float
    backoff_rate: float = 1.0

    def __attrs_post_init__(self) -> None:
        if self.retries < 0:
            raise InvalidInputError("retries cannot be negative", field="retries")
        if self.interval_s < 0:
            raise InvalidInputError("interval cannot be negative", field="interval_s")
        if self.backoff_rate < 1.0:
            raise InvalidInputError("backoff rate must be at least 1", field="backoff_rate")

    @property
    def max_attempts(self) -> int:
        """The first attempt plus the retries."""
        return self.retries + 1

    def delays(self) -> tuple[float, ...]:
        """The waits between attempts (one per retry)."""
        return tuple(self.interval_s * self.backoff_rate**n for n in range(self.retries))

    def single_attempt(self) -> RetryPolicy:
        """The same policy with no retries (fallback candidates get one attempt each)."""
        return attrs.evolve(self, retries=0)


@attrs.frozen
class RetryPolicies:
    """The retry policy of every queue; immutable, overridden per tenant."""

    by_queue: Mapping[Queue, RetryPolicy]

    def __attrs_post_init__(self) -> None:
        missing = set(Queue) - set(self.by_queue)
        if missing:
            raise InvalidInputError(
                f"retry policies miss queues {sorted(q.value for q in missing)}", field="queues"
            )

    def for_queue(self, queue: Queue) -> RetryPolicy:
        """The policy of ``queue``."""
        return self.by_queue[queue]

    def with_overrides(self, overrides: Mapping[str, RetryPolicy]) -> RetryPolicies:
        """A copy with some queues replaced (keys are queue names, e.g. ``"booking"``)."""
        out = dict(self.by_queue)
        for name, policy in overrides.items():
            try:
                out[Queue(name)] = policy
            except ValueError:
                raise InvalidInputError(f"unknown queue {name!r}", field="queue") from None
        return RetryPolicies(out)

    def scaled(self, factor: float) -> RetryPolicies:
        """Every interval multiplied by ``factor`` (tests and simulations run faster)."""
        return RetryPolicies(
            {q: attrs.evolve(p, interval_s=p.interval_s * factor) for q, p in self.by_queue.items()}
        )


#: The seeds' defaults.
DEFAULT_RETRY_POLICIES = RetryPolicies(
    {
        Queue.ALLOCATION: RetryPolicy(3, 2.0, 2.0),
        Queue.BOOKING: RetryPolicy(5, 5.0, 2.0),
        Queue.PAYMENT: RetryPolicy(5, 3.0),
        Queue.NOTIFICATION: RetryPolicy(5, 3.0),
        Queue.AGENT: RetryPolicy(1, 0.0),
        Queue.TRANSPORT: RetryPolicy(5, 5.0, 2.0),
        Queue.SYSTEM: RetryPolicy(3, 0.5, 2.0),
    }
)
