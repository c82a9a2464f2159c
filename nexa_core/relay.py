"""The outbox relay: hands committed outbox records to a consumer, in order, once.

Pure over the :class:`~nexa_core.ports.Outbox` port, so it works with every store. The
relay reads ``read_after(load_position(name))``, awaits ``handler(record)`` for each
record in position order and saves the position after each one. A crash (of the relay or
of the writers) loses nothing: the next run resumes after the last saved position, and a
record handled but not yet acknowledged is handed over again — consumers deduplicate by
``record.event.key`` (delivery is at-least-once; with a deduplicating consumer, the
effect is exactly once). A handler that raises stops the batch; the failed record is
retried on the next run.

"Never skips": the store guarantees that records become visible in position order
(the SQL store serialises outbox appends until commit on PostgreSQL; SQLite has a single
writer), so a position once passed can never be filled by a later commit.

:class:`RelayRunner` runs one relay per :class:`OutboxConsumer` (``nexa worker`` does);
with a coordination store each consumer's relay holds a lease (an entity lock on
``urn:relay:<consumer>``) so that among several workers exactly one delivers to it, and
another takes over when that worker dies. :func:`outbox_status` reports each consumer's
position and lag (``nexa outbox status``). Built-in consumers: :class:`SnapshotRefresh`
(the passenger document follows every sub-case change) and :class:`EventCounters`
(``nexa_outbox_events_total{type,airline}``).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

import anyio
import attrs

from nexa_core.care import CareDeps, refresh_document
from nexa_core.errors import LockHeldError, NotFoundError
from nexa_core.ports import EntityLocks, Outbox, OutboxRecord
from nexa_core.tenancy import TenantContext
from nexa_core.tracing import get_metrics
from nexa_core.urn import Urn

__all__ = [
    "RELAY_LEASE_TTL",
    "ConsumerStatus",
    "EventCounters",
    "OutboxConsumer",
    "OutboxRelay",
    "RelayRunner",
    "SnapshotRefresh",
    "outbox_status",
]

_log = logging.getLogger("nexa.relay")

Handler = Callable[[OutboxRecord], Awaitable[None]]

#: a relay lease lapses this long after its worker stopped heartbeating (another worker
#: then takes the consumer over)
RELAY_LEASE_TTL = timedelta(seconds=15)

#: relay leases are entity locks of this platform-level tenant (the outbox is not a
#: tenant's: one relay serves every airline)
_PLATFORM = TenantContext.system(Urn("airline", "NEXA"))


class OutboxRelay:
    """Delivers outbox records to ``handler`` in order, resuming from a stored position."""

    def __init__(self, outbox: Outbox, name: str, handler: Handler, *, batch: int = 100) -> None:
        if batch < 1:
            raise ValueError("batch must be at least 1")
        self.outbox = outbox
        self.name = name
        self.handler = handler
        self.batch = batch

    async def run_once(self) -> int:
        """Deliver everything committed so far; returns how many records were handed over."""
        delivered = 0
        position = await self.outbox.load_position(self.name)
        while True:
            records = await self.outbox.read_after(position, limit=self.batch)
            for record in records:
                await self.handler(record)
                position = record.position
                await self.outbox.save_position(self.name, position)
                delivered += 1
            if len(records) < self.batch:
                return delivered

    async def run(self, *, idle_s: float = 0.5, stop: anyio.Event | None = None) -> None:
        """Poll until ``stop`` is set (or forever), sleeping ``idle_s`` when caught up."""
        while stop is None or not stop.is_set():
            if await self.run_once() == 0:
                with anyio.move_on_after(idle_s):
                    if stop is not None:
                        await stop.wait()
                    else:
                        await anyio.sleep(idle_s)


class OutboxConsumer(Protocol):
    """Receives every outbox record once it committed, in order (at least once: a record
    can come again after a crash, so a consumer makes its effect idempotent)."""

    name: str

    async def handle(self, record: OutboxRecord) -> None:
        """Apply one record (raise to have it retried on the next run)."""
        ...


@attrs.frozen
class ConsumerStatus:
    """Where one consumer stands: its saved position, the outbox head, the records it
    has not handled yet and when the oldest of them was committed."""

    consumer: str
    position: int
    head: int
    oldest_pending_at: datetime | None = None

    @property
    def lag(self) -> int:
        """Records between the consumer's position and the head."""
        return max(0, self.head - self.position)


async def outbox_status(outbox: Outbox, consumers: Sequence[str]) -> list[ConsumerStatus]:
    """Position and lag of each consumer (``nexa outbox status``)."""
    head = await outbox.head()
    out = []
    for name in consumers:
        position = await outbox.load_position(name)
        oldest = None
        if position < head:
            pending = await outbox.read_after(position, limit=1)
            oldest = pending[0].event.occurred_at if pending else None
        out.append(ConsumerStatus(name, position, head, oldest))
    return out


class RelayRunner:
    """One :class:`OutboxRelay` per consumer, run together (``nexa worker``).

    With ``locks`` each relay first takes the consumer's lease (``owner`` names this
    worker); a worker that cannot stands by and retries. Without ``locks`` (one process)
    every relay runs directly.
    """

    def __init__(
        self,
        outbox: Outbox,
        consumers: Sequence[OutboxConsumer],
        *,
        locks: EntityLocks | None = None,
        owner: str = "relay",
        batch: int = 100,
        lease_ttl: timedelta = RELAY_LEASE_TTL,
    ) -> None:
        names = [c.name for c in consumers]
        if len(set(names)) != len(names):
            raise ValueError("outbox consumers must have distinct names")
        self.outbox = outbox
        self.consumers = tuple(consumers)
        self.locks = locks
        self.owner = owner
        self.lease_ttl = lease_ttl
        self.relays = {
            c.name: OutboxRelay(outbox, c.name, c.handle, batch=batch) for c in consumers
        }
        self.delivered: dict[str, int] = dict.fromkeys(names, 0)

    async def run_once(self) -> dict[str, int]:
        """Deliver everything committed so far to every consumer (no leases: for a single
        process or a test); returns how many records each one got."""
        got = {}
        for name, relay in self.relays.items():
            got[name] = await relay.run_once()
            self.delivered[name] += got[name]
        return got

    async def caught_up(self) -> bool:
        """Whether every consumer has handled everything committed so far."""
        return all(s.lag == 0 for s in await outbox_status(self.outbox, list(self.relays)))

    async def run(self, *, idle_s: float = 0.5, stop: anyio.Event | None = None) -> None:
        """Run every relay until ``stop`` is set (or forever)."""
        stop = stop or anyio.Event()
        async with anyio.create_task_group() as tg:
            for name in self.relays:
                tg.start_soon(self._serve, name, idle_s, stop)

    async def _deliver(self, name: str, idle_s: float, stop: anyio.Event, until: Any) -> None:
        relay = self.relays[name]
        while not stop.is_set() and not until():
            got = await relay.run_once()
            self.delivered[name] += got
            if got == 0:
                with anyio.move_on_after(idle_s):
                    await stop.wait()

    async def _serve(self, name: str, idle_s: float, stop: anyio.Event) -> None:
        if self.locks is None:
            await self._deliver(name, idle_s, stop, lambda: False)
            return
        from nexa_core.locking import keep_lock

        while not stop.is_set():
            try:
                async with keep_lock(
                    self.locks, _PLATFORM, Urn("relay", name), self.owner, ttl=self.lease_ttl
                ) as lease:
                    _log.info("relay %s: %s delivers", name, self.owner)
                    await self._deliver(name, idle_s, stop, lease.lost.is_set)
            except LockHeldError:
                pass  # another worker delivers to this consumer: stand by
            with anyio.move_on_after(self.lease_ttl.total_seconds() / 3):
                await stop.wait()


class SnapshotRefresh:
    """The passenger read side follows the sub-case: after every event about a sub-case
    its passenger document is rebuilt from the records (the care pipeline's
    :func:`~nexa_core.care.refresh_document`) — also after changes made outside the
    saga (an operator's decline, a review, a re-accommodation). It reads the current
    state, so a redelivered or late event converges to the same document; a sub-case
    that never reached an offer has no document and is left alone."""

    name = "snapshots"

    def __init__(self, care: CareDeps) -> None:
        self.care = care
        self.refreshed = 0

    async def handle(self, record: OutboxRecord) -> None:
        event = record.event
        if not event.subject_urn.is_a("sub-case"):
            return
        tenant = TenantContext.system(event.airline_urn)
        try:
            doc = await refresh_document(self.care, tenant, event.subject_urn.base)
        except NotFoundError:  # erased, or never committed: nothing to show
            return
        if doc is not None:
            self.refreshed += 1


class EventCounters:
    """``nexa_outbox_events_total{type,airline}`` in the installed metrics sink (a record
    redelivered after a crash is counted again: counters are at-least-once)."""

    name = "metrics"

    async def handle(self, record: OutboxRecord) -> None:
        event = record.event
        get_metrics().inc(
            "nexa_outbox_events_total", {"type": event.type, "airline": event.airline_urn.id}
        )
