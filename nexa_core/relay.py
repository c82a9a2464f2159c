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
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import anyio

from nexa_core.ports import Outbox, OutboxRecord

__all__ = ["OutboxRelay"]

Handler = Callable[[OutboxRecord], Awaitable[None]]


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
