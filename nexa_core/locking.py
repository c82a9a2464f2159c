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

Operator commands that change sub-cases (review claim/resolve, rebook, manual dispatch, …)
use :func:`operator_lock`: every entity the command changes is locked for the command's
duration with :func:`keep_lock`, and :meth:`OperatorLease.check` presents the fencing
tokens right before the write::

    async with operator_lock(coordination.locks, tenant, [sub_case_urn], principal) as lease:
        ...                                   # read, decide
        await lease.check()                   # StaleFencingTokenError if taken over
        await recorder.commit(...)

A second operator gets :class:`LockHeldError` "… is locked by u-ana since 2026-05-05
20:01:02Z" (the CLI's exit 4).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio
import attrs

from nexa_core.errors import (
    InvalidInputError,
    InvalidUrnError,
    LockHeldError,
    StaleFencingTokenError,
)
from nexa_core.ports import EntityLocks, LockGrant
from nexa_core.tenancy import TenantContext
from nexa_core.urn import Urn, without_status

__all__ = [
    "OPERATOR_LOCK_TTL",
    "LockLease",
    "OperatorLease",
    "held_message",
    "keep_lock",
    "locked_by",
    "operator_lock",
]

#: an operator command's entity locks lapse this long after its last heartbeat (a killed
#: command blocks the entity for at most this long); heartbeats run every third of it
OPERATOR_LOCK_TTL = timedelta(seconds=30)


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


def _who(owner: str) -> str:
    """``urn:user:u-ana`` → ``u-ana`` (other owners as they are)."""
    try:
        urn = Urn.parse(owner)
    except InvalidUrnError:
        return owner
    return urn.id if urn.is_a("user") else owner


def _when(value: datetime | str | None) -> str:
    if value is None:
        return "an unknown time"
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def held_message(entity_urn: Urn, owner: str, since: datetime | str | None) -> str:
    """``urn:sub-case:sc-1 is locked by u-ana since 2026-05-05 20:01:02Z``."""
    return f"{without_status(entity_urn)} is locked by {_who(owner)} since {_when(since)}"


def locked_by(entity_urn: Urn, owner: str, since: datetime | str | None) -> LockHeldError:
    """The :class:`LockHeldError` an operator sees when someone else holds ``entity_urn``."""
    when = since.isoformat() if isinstance(since, datetime) else since
    return LockHeldError(
        held_message(entity_urn, owner, since), urn=str(entity_urn), owner=owner, since=when
    )


@attrs.define
class OperatorLease:
    """The kept locks of one operator command."""

    locks: EntityLocks
    tenant: TenantContext
    leases: dict[str, LockLease] = attrs.field(factory=dict)

    def token(self, entity_urn: Urn) -> int:
        """The fencing token held for ``entity_urn``."""
        return self.leases[str(without_status(entity_urn))].token

    async def check(self) -> None:
        """Present every fencing token: raises :class:`StaleFencingTokenError` when a lock
        was lost or taken over since the command took it (nothing must be written then)."""
        for key, lease in self.leases.items():
            if lease.lost.is_set():
                raise StaleFencingTokenError(
                    f"the lock on {key} was lost while the command ran", urn=key
                )
            await self.locks.check_token(self.tenant, lease.grant.entity_urn, lease.token)


@asynccontextmanager
async def operator_lock(
    locks: EntityLocks,
    tenant: TenantContext,
    entities: Iterable[Urn],
    principal: Any,
    *,
    ttl: timedelta = OPERATOR_LOCK_TTL,
) -> AsyncIterator[OperatorLease]:
    """Lock every entity an operator command changes, for the command's duration.

    ``principal`` (its ``subject`` URN, or a plain owner string) names the lock owner.
    Locks are taken in URN order (two commands never wait on each other in a cycle) and
    kept alive by :func:`keep_lock`. Raises :class:`LockHeldError` "… is locked by <user>
    since <time>" when another owner holds one of them; the ones already taken are
    released.
    """
    owner = str(getattr(principal, "subject", principal))
    unique = sorted({str(without_status(u)): without_status(u) for u in entities}.items())
    lease = OperatorLease(locks, tenant)
    async with AsyncExitStack() as stack:
        for key, urn in unique:
            try:
                lease.leases[key] = await stack.enter_async_context(
                    keep_lock(locks, tenant, urn, owner, ttl=ttl)
                )
            except LockHeldError as exc:
                raise locked_by(
                    urn, str(exc.context.get("owner", "someone")), exc.context.get("since")
                ) from None
        yield lease
