"""Tenant context and the tenant guard.

The tenant (an airline) comes only from a verified principal; every store call takes a
:class:`TenantContext` and filters by its ``airline_urn``. A record of another tenant is
reported exactly like a missing one (:class:`NotFoundError`), never as "forbidden".
"""

from __future__ import annotations

from typing import TypeVar

import attrs

from nexa_core.errors import InvalidInputError, NotFoundError
from nexa_core.model.audit import Actor
from nexa_core.model.common import Aggregate
from nexa_core.urn import Urn

__all__ = ["SYSTEM_ACTOR", "TenantContext", "guard", "require_same_tenant"]

SYSTEM_ACTOR = Actor(Urn("user", "system"), role="SYSTEM")

A = TypeVar("A", bound=Aggregate)


@attrs.frozen
class TenantContext:
    """Who is acting, for which airline, under which correlation."""

    airline_urn: Urn
    actor: Actor = SYSTEM_ACTOR
    correlation_urn: Urn | None = None
    airports: frozenset[str] | None = None  # None: every airport of the tenant

    def __attrs_post_init__(self) -> None:
        if not self.airline_urn.is_a("airline"):
            raise InvalidInputError(
                f"{self.airline_urn} is not an airline URN", field="airline_urn"
            )

    @classmethod
    def system(cls, airline: Urn | str, *, correlation_urn: Urn | None = None) -> TenantContext:
        """A context for system actions (workers, relays) of one tenant."""
        urn = airline if isinstance(airline, Urn) else Urn.parse(airline)
        return cls(urn, SYSTEM_ACTOR, correlation_urn)

    def owns(self, record: Aggregate) -> bool:
        """Whether the record belongs to this tenant."""
        return record.airline_urn == self.airline_urn

    def with_correlation(self, correlation_urn: Urn) -> TenantContext:
        """The same context under another correlation URN."""
        return attrs.evolve(self, correlation_urn=correlation_urn)


def guard(tenant: TenantContext, record: A | None, urn: Urn | None = None) -> A:
    """Return ``record`` if it exists and belongs to the tenant, else raise NotFoundError."""
    if record is None or not tenant.owns(record):
        shown = urn if urn is not None else (record.urn if record is not None else None)
        raise NotFoundError(f"{shown} not found", urn=str(shown))
    return record


def require_same_tenant(tenant: TenantContext, airline_urn: Urn, *, what: str = "document") -> None:
    """Refuse input that names another airline than the caller's (reported as not found).

    Documents (manifests, policies, webhooks) may carry an airline field; the tenant never
    comes from it — it must match the verified principal's tenant or the input is refused.
    """
    if airline_urn != tenant.airline_urn:
        raise NotFoundError(f"{what} for {airline_urn} not found", urn=str(airline_urn))
