"""Roles, principals and the service guard.

Roles inherit: ADMIN ⊃ OPS_SUPERVISOR ⊃ AIRPORT_OPERATOR; FINANCE_AUDIT is a parallel,
read-only role that ADMIN also holds. Application services declare their minimum role
with :func:`requires`; the registry :data:`SERVICE_ROLES` lets a test enumerate them.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Awaitable, Callable
from typing import Any, ParamSpec, TypeVar

import attrs

from nexa_core.errors import AuthenticationError, PermissionDeniedError
from nexa_core.urn import Urn

__all__ = [
    "IMPLIED_ROLES",
    "SERVICE_ROLES",
    "Principal",
    "PrincipalKind",
    "Role",
    "has_role",
    "requires",
]


class Role(enum.StrEnum):
    """Operator roles (plus the system role used by workers)."""

    ADMIN = "ADMIN"
    OPS_SUPERVISOR = "OPS_SUPERVISOR"
    AIRPORT_OPERATOR = "AIRPORT_OPERATOR"
    FINANCE_AUDIT = "FINANCE_AUDIT"
    SYSTEM = "SYSTEM"


#: role → every role it includes (itself too)
IMPLIED_ROLES: dict[Role, frozenset[Role]] = {
    Role.ADMIN: frozenset(
        {Role.ADMIN, Role.OPS_SUPERVISOR, Role.AIRPORT_OPERATOR, Role.FINANCE_AUDIT}
    ),
    Role.OPS_SUPERVISOR: frozenset({Role.OPS_SUPERVISOR, Role.AIRPORT_OPERATOR}),
    Role.AIRPORT_OPERATOR: frozenset({Role.AIRPORT_OPERATOR}),
    Role.FINANCE_AUDIT: frozenset({Role.FINANCE_AUDIT}),
    Role.SYSTEM: frozenset(
        {Role.SYSTEM, Role.ADMIN, Role.OPS_SUPERVISOR, Role.AIRPORT_OPERATOR, Role.FINANCE_AUDIT}
    ),
}


class PrincipalKind(enum.StrEnum):
    """Who is calling."""

    OPERATOR = "OPERATOR"
    PASSENGER = "PASSENGER"
    PARTNER = "PARTNER"
    SYSTEM = "SYSTEM"


@attrs.frozen
class Principal:
    """A verified caller. The tenant comes only from here."""

    kind: PrincipalKind
    subject: Urn
    airline_urn: Urn
    roles: frozenset[Role] = frozenset()
    airports: frozenset[str] | None = None  # None: every airport of the tenant
    case_urn: Urn | None = None  # passenger tokens are scoped to one case
    scopes: frozenset[str] = frozenset()  # partner client-credential scopes
    token_id: str | None = None


def has_role(principal: Principal, minimum: Role) -> bool:
    """Whether any of the principal's roles includes ``minimum``."""
    return any(minimum in IMPLIED_ROLES[r] for r in principal.roles)


P = ParamSpec("P")
R = TypeVar("R")

#: qualified service name → minimum role, filled by :func:`requires`
SERVICE_ROLES: dict[str, Role] = {}


def requires(
    minimum: Role,
) -> Callable[[Callable[P, Awaitable[R]]], Callable[P, Awaitable[R]]]:
    """Declare and enforce the minimum role of an async application service.

    The decorated function must take ``principal: Principal`` as a keyword argument.
    A denial raises :class:`PermissionDeniedError`; a missing principal raises
    :class:`AuthenticationError`.
    """

    def decorate(fn: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
        name = f"{fn.__module__}.{fn.__qualname__}"
        SERVICE_ROLES[name] = minimum

        @functools.wraps(fn)
        async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            principal: Any = kwargs.get("principal")
            if not isinstance(principal, Principal):
                raise AuthenticationError(f"{name} needs an authenticated principal")
            if principal.kind is PrincipalKind.PASSENGER or not has_role(principal, minimum):
                raise PermissionDeniedError(
                    f"{name} requires {minimum.value}",
                    service=name,
                    required=minimum.value,
                    subject=str(principal.subject),
                )
            return await fn(*args, **kwargs)

        wrapper.__nexa_min_role__ = minimum  # type: ignore[attr-defined]
        return wrapper

    return decorate
