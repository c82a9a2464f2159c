"""In-memory passenger snapshot store (per-tenant key space)."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from nexa_core.errors import NotFoundError
from nexa_core.pii import reject_card_numbers
from nexa_core.tenancy import TenantContext
from nexa_core.urn import Urn, without_status

__all__ = ["MemorySnapshotStore"]


class MemorySnapshotStore:
    """Documents keyed by ``<tenant>/<urn>``; reads return copies."""

    def __init__(self) -> None:
        self._docs: dict[str, dict[str, Any]] = {}

    @staticmethod
    def _key(tenant: TenantContext, urn: Urn) -> str:
        return f"{tenant.airline_urn}/{without_status(urn)}"

    async def put(self, tenant: TenantContext, urn: Urn, document: Mapping[str, Any]) -> None:
        reject_card_numbers(dict(document))
        self._docs[self._key(tenant, urn)] = copy.deepcopy(dict(document))

    async def get(self, tenant: TenantContext, urn: Urn) -> Mapping[str, Any]:
        doc = self._docs.get(self._key(tenant, urn))
        if doc is None:
            raise NotFoundError(f"{urn} not found", urn=str(urn))
        return copy.deepcopy(doc)

    async def delete(self, tenant: TenantContext, urn: Urn) -> None:
        self._docs.pop(self._key(tenant, urn), None)
