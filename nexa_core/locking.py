"""Keep an entity lock alive for as long as a block of code runs (the operator session).

::

    async with keep_lock(coordination.locks, tenant, sub_case_urn, session_id,
                         ttl=timedelta(seconds=30)) as lease:
        ...                                   # heartbeats every ttl/3 in the background
        await store.write(..., fence=lease.token)
        if lease.lost.is_set(): ...           # someone took over: stop writing

The lock is released when the block ends (also on error or cancellation). If a heartbeat
finds the lock taken over (:class:`StaleFencingTokenError`), ``lease.lost`` is set and
heartbeats stop; writes with the old token are then refused by ``check_token``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import anyio
import attrs

from nexa_core.errors import InvalidInputError, StaleFencingTokenError
from nexa_core.ports import EntityLocks, LockGrant
from nexa_core.tenancy import TenantContext
from nexa_core.urn import Urn

__all__ = ["LockLease", "keep_lock"]


@attrs.define
class LockLease:
    """The current grant of a kept lock and whether it was lost."""

    grant: LockGrant
    lost: anyio.Event = attrs.field(factory=anyio.Event)

    @property
    def token(self) -> int:
        """The fencing token to present with guarded writes."""
        return self.grant.token


@asynccontextmanager
async def keep_lock(
    locks: EntityLocks,
    tenant: TenantContext,
    entity_urn: Urn,
    owner: str,
    *,
    ttl: timedelta,
    every: timedelta | None = None,
) -> AsyncIterator[LockLease]:
    """Acquire, heartbeat every ``every`` (default ``ttl / 3``) and release at the end.

    Raises :class:`LockHeldError` when someone else holds the lock. A heartbeat that fails
    for another reason (a connection blip) is retried at the next beat; the lock's TTL
    covers the gap.
    """
    interval = (every or ttl / 3).total_seconds()
    if interval <= 0 or ttl <= timedelta(0):
        raise InvalidInputError("ttl and heartbeat interval must be positive", field="ttl")
    lease = LockLease(await locks.acquire(tenant, entity_urn, owner, ttl=ttl))

    async def beat() -> None:
        while True:
            await anyio.sleep(interval)
            try:
                lease.grant = await locks.heartbeat(tenant, lease.grant, ttl=ttl)
            except StaleFencingTokenError:
                lease.lost.set()
                return
            except Exception:  # transient (connection blip): the TTL covers until the next beat
                continue

    failure: BaseException | None = None
    try:
        async with anyio.create_task_group() as tg:
            tg.start_soon(beat)
            try:
                yield lease
            except BaseException as exc:  # re-raised below, not wrapped in a group
                failure = exc
            finally:
                tg.cancel_scope.cancel()
    finally:
        with anyio.CancelScope(shield=True):
            await locks.release(tenant, lease.grant)
    if failure is not None:
        raise failure
