"""Passenger snapshots on Redis: JSON documents under per-tenant key prefixes.

The snapshot store is the passenger read side (hotel, address, QR payload, transport,
voucher, card reveal link), written by the saga and read by URN. Point it at its own
Redis database or key prefix to keep it apart from coordination keys; it never shares
anything with the operational (SQL) store.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import redis.asyncio as aioredis

from nexa_adapters.redis.urls import parse_redis_url
from nexa_core.errors import InvalidInputError, NotFoundError
from nexa_core.pii import reject_card_numbers
from nexa_core.tenancy import TenantContext
from nexa_core.urn import Urn, without_status

__all__ = ["RedisSnapshotStore"]


class RedisSnapshotStore:
    """Documents at ``<prefix>:snap:<tenant URN>:<URN>`` (optionally expiring)."""

    def __init__(
        self, client: aioredis.Redis, *, prefix: str = "nexa", ttl: timedelta | None = None
    ) -> None:
        self.client = client
        self.prefix = prefix
        self._ttl = ttl

    @classmethod
    def from_url(cls, url: str) -> RedisSnapshotStore:
        """``redis://host:port/db?prefix=nexa-snap`` (no connection until first use)."""
        client_url, prefix, _ = parse_redis_url(url, default_prefix="nexa-snapshots")
        return cls(aioredis.Redis.from_url(client_url, decode_responses=True), prefix=prefix)

    def key(self, tenant: TenantContext, urn: Urn) -> str:
        """Where the tenant's document for ``urn`` lives."""
        return f"{self.prefix}:snap:{tenant.airline_urn}:{without_status(urn)}"

    async def put(self, tenant: TenantContext, urn: Urn, document: Mapping[str, Any]) -> None:
        reject_card_numbers(dict(document))
        try:
            text = json.dumps(dict(document), separators=(",", ":"), allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise InvalidInputError(
                f"snapshot for {urn} is not a JSON document: {exc}", urn=str(urn)
            ) from exc
        ttl_ms = None if self._ttl is None else max(1, round(self._ttl.total_seconds() * 1000))
        await self.client.set(self.key(tenant, urn), text, px=ttl_ms)

    async def get(self, tenant: TenantContext, urn: Urn) -> Mapping[str, Any]:
        text = await self.client.get(self.key(tenant, urn))
        if text is None:
            raise NotFoundError(f"{urn} not found", urn=str(urn))
        doc: dict[str, Any] = json.loads(text)
        return doc

    async def delete(self, tenant: TenantContext, urn: Urn) -> None:
        await self.client.delete(self.key(tenant, urn))

    async def close(self) -> None:
        """Close the connection pool."""
        await self.client.aclose()
