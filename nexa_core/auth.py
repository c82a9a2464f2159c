"""Roles, principals, the service guard and denial auditing.

Roles inherit: ADMIN ⊃ OPS_SUPERVISOR ⊃ AIRPORT_OPERATOR; FINANCE_AUDIT is a parallel,
read-only role that ADMIN also holds. Application services declare who may call them with
:func:`requires`; the registries :data:`SERVICES` (full declarations) and
:data:`SERVICE_ROLES` (name → minimum role) let a test enumerate them.

Who gets through a service declared ``requires(minimum, read_only=…, airport_arg=…,
case_arg=…, partner_scopes=…)``:

* an operator or system principal holding ``minimum`` (directly or by inheritance);
* a FINANCE_AUDIT principal when the service is ``read_only`` (it never gets a write);
* a passenger principal only when ``case_arg`` is declared and names the token's case;
* a partner principal only when every scope in ``partner_scopes`` was granted to it;
* and, when ``airport_arg`` is declared, only if the principal may act at that airport
  (an operator limited to a list of airports is denied elsewhere — :func:`check_airport`).

Every denial raises :class:`PermissionDeniedError` *before* the service body runs and is
recorded through the installed :class:`DenialSink` (an :class:`AuditDenialSink` writes an
``auth.denied`` audit entry in the caller's tenant). A missing principal raises
:class:`AuthenticationError`. Messages never contain token material.
"""

from __future__ import annotations

import enum
import functools
import inspect
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, ParamSpec, Protocol, TypeVar

import attrs

from nexa_core.errors import (
    AuthenticationError,
    ConfigurationError,
    InvalidInputError,
    PermissionDeniedError,
)
from nexa_core.model.audit import Actor, AuditEntry
from nexa_core.ports import AuditLog, Clock, IdGenerator
from nexa_core.tenancy import TenantContext
from nexa_core.tracing import current_correlation
from nexa_core.urn import Urn

__all__ = [
    "IMPLIED_ROLES",
    "SERVICES",
    "SERVICE_ROLES",
    "AuditDenialSink",
    "Denial",
    "DenialSink",
    "Principal",
    "PrincipalKind",
    "Role",
    "ServiceDeclaration",
    "actor_of",
    "can_access_airport",
    "check_airport",
    "decide",
    "enforce_airport",
    "get_denial_sink",
    "has_role",
    "iata_of",
    "install_denial_sink",
    "record_denial",
    "requires",
    "requires_passenger",
    "tenant_of",
]

_log = logging.getLogger("nexa.auth")


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

#: the label of a principal's strongest role, strongest first
_ROLE_ORDER = (
    Role.SYSTEM,
    Role.ADMIN,
    Role.OPS_SUPERVISOR,
    Role.AIRPORT_OPERATOR,
    Role.FINANCE_AUDIT,
)


class PrincipalKind(enum.StrEnum):
    """Who is calling."""

    OPERATOR = "OPERATOR"
    PASSENGER = "PASSENGER"
    PARTNER = "PARTNER"
    SYSTEM = "SYSTEM"


def _airline(_: Any, __: Any, value: Urn) -> None:
    if not isinstance(value, Urn) or not value.is_a("airline"):
        raise AuthenticationError("principal has no airline (tenant) URN")


def _roles(value: Iterable[Role]) -> frozenset[Role]:
    return frozenset(value)


def _scopes(value: Iterable[str]) -> frozenset[str]:
    return frozenset(value)


def _airports(value: Any) -> frozenset[str] | None:
    if value is None:
        return None
    out = frozenset(iata_of(v) for v in value)
    return out


@attrs.frozen
class Principal:
    """A verified caller. The tenant comes only from here (see :func:`tenant_of`)."""

    kind: PrincipalKind
    subject: Urn
    airline_urn: Urn = attrs.field(validator=_airline)
    roles: frozenset[Role] = attrs.field(default=frozenset(), converter=_roles)
    airports: frozenset[str] | None = attrs.field(default=None, converter=_airports)
    case_urn: Urn | None = None  # passenger tokens are scoped to one case
    scopes: frozenset[str] = attrs.field(default=frozenset(), converter=_scopes)
    token_id: str | None = attrs.field(default=None, repr=False)

    @property
    def role_label(self) -> str:
        """The strongest role's name (or the kind for passengers and partners)."""
        if self.kind in (PrincipalKind.PASSENGER, PrincipalKind.PARTNER):
            return self.kind.value
        for role in _ROLE_ORDER:
            if role in self.roles:
                return role.value
        return self.kind.value


def has_role(principal: Principal, minimum: Role) -> bool:
    """Whether any of the principal's roles includes ``minimum`` (never for passengers)."""
    if principal.kind in (PrincipalKind.PASSENGER, PrincipalKind.PARTNER):
        return False
    return any(minimum in IMPLIED_ROLES[r] for r in principal.roles)


def iata_of(airport: Urn | str) -> str:
    """The IATA code of an airport URN or code (upper-case, 3 ASCII letters)."""
    code = airport.id if isinstance(airport, Urn) else str(airport)
    if isinstance(airport, Urn) and not airport.is_a("airport"):
        raise InvalidInputError(f"{airport} is not an airport", field="airport")
    code = code.strip().upper()
    if len(code) != 3 or not (code.isascii() and code.isalpha()):
        raise InvalidInputError("airport must be a 3-letter IATA code", field="airport")
    return code


def can_access_airport(principal: Principal, airport: Urn | str | None) -> bool:
    """Whether the principal may act at ``airport`` (unrestricted principals always may).

    A restricted principal is denied when the airport is unknown (``None``).
    """
    if principal.airports is None:
        return True
    if airport is None:
        return False
    try:
        return iata_of(airport) in principal.airports
    except InvalidInputError:
        return False


def check_airport(principal: Principal, airport: Urn | str | None) -> None:
    """Raise :class:`PermissionDeniedError` unless the principal may act at ``airport``."""
    if not can_access_airport(principal, airport):
        raise PermissionDeniedError(
            f"{principal.subject} may not act at airport {airport}",
            subject=str(principal.subject),
            airport=str(airport),
        )


def actor_of(principal: Principal) -> Actor:
    """The audit actor for a principal."""
    return Actor(principal.subject, role=principal.role_label, token_id=principal.token_id)


def tenant_of(principal: Principal, *, correlation_urn: Urn | None = None) -> TenantContext:
    """The :class:`TenantContext` of a verified principal — the only way to get a tenant.

    The correlation defaults to the current one (:func:`nexa_core.tracing.current_correlation`).
    """
    return TenantContext(
        principal.airline_urn,
        actor_of(principal),
        correlation_urn if correlation_urn is not None else current_correlation(),
        principal.airports,
    )


# --------------------------------------------------------------------------- declarations


@attrs.frozen
class ServiceDeclaration:
    """Who may call one application service (see the module docstring)."""

    name: str
    minimum: Role
    read_only: bool = False
    airport_arg: str | None = None
    case_arg: str | None = None
    passengers: bool = False
    partner_scopes: frozenset[str] = frozenset()
    passengers_only: bool = False


#: qualified service name → declaration, filled by :func:`requires`
SERVICES: dict[str, ServiceDeclaration] = {}
#: qualified service name → minimum role, filled by :func:`requires`
SERVICE_ROLES: dict[str, Role] = {}


def decide(
    decl: ServiceDeclaration,
    principal: Principal,
    *,
    airport: Urn | str | None = None,
    case_urn: Urn | None = None,
) -> str | None:
    """Why ``principal`` may not call the service (``None``: allowed)."""
    if principal.kind is PrincipalKind.PASSENGER:
        if not decl.passengers:
            return "passengers may not call this service"
        if principal.case_urn is None:
            return "the passenger token is not scoped to a case"
        if decl.case_arg is not None and (
            case_urn is None or case_urn.base != principal.case_urn.base
        ):
            return "the passenger token is scoped to another case"
        return None
    if decl.passengers_only:
        return "only passengers holding a case-scoped token may call this service"
    if principal.kind is PrincipalKind.PARTNER:
        if not decl.partner_scopes:
            return "partners may not call this service"
        missing = decl.partner_scopes - principal.scopes
        if missing:
            return f"missing scope {sorted(missing)[0]}"
        return None
    allowed = has_role(principal, decl.minimum) or (
        decl.read_only and has_role(principal, Role.FINANCE_AUDIT)
    )
    if not allowed:
        return f"requires {decl.minimum.value}"
    if decl.airport_arg is not None and not can_access_airport(principal, airport):
        return f"not permitted at airport {airport}"
    return None


# --------------------------------------------------------------------------- denials


@attrs.frozen
class Denial:
    """One refused call, as handed to a :class:`DenialSink`."""

    service: str
    principal: Principal
    reason: str
    correlation_urn: Urn | None = None
    entity_urn: Urn | None = None


class DenialSink(Protocol):
    """Where denials go (an audit log, a security log, a test list)."""

    async def record(self, denial: Denial) -> None:
        """Persist one denial; failures are logged, never raised to the caller."""
        ...


class AuditDenialSink:
    """Records each denial as an ``auth.denied`` entry of the caller's tenant audit log."""

    def __init__(self, audit: AuditLog, clock: Clock, ids: IdGenerator) -> None:
        self._audit = audit
        self._clock = clock
        self._ids = ids

    async def record(self, denial: Denial) -> None:
        """Append the audit entry."""
        p = denial.principal
        tenant = TenantContext(p.airline_urn, actor_of(p), denial.correlation_urn)
        await self._audit.append(
            tenant,
            AuditEntry(
                urn=self._ids.new("audit"),
                airline_urn=p.airline_urn,
                actor=actor_of(p),
                action="auth.denied",
                entity_urn=denial.entity_urn or p.subject,
                reason=f"{denial.service}: {denial.reason}",
                at=self._clock.now(),
                correlation_urn=denial.correlation_urn,
                after={"service": denial.service, "kind": p.kind.value},
            ),
        )


@attrs.define
class _SinkHolder:
    sink: DenialSink | None = None


_SINK = _SinkHolder()


def install_denial_sink(sink: DenialSink | None) -> DenialSink | None:
    """Install the process-wide denial sink (bootstrap does it); returns the previous one."""
    previous = _SINK.sink
    _SINK.sink = sink
    return previous


def get_denial_sink() -> DenialSink | None:
    """The installed denial sink."""
    return _SINK.sink


async def record_denial(
    service: str, principal: Principal, reason: str, *, entity_urn: Urn | None = None
) -> PermissionDeniedError:
    """Log and audit a denial; returns the error for the caller to raise."""
    corr = current_correlation()
    _log.warning(
        "permission denied",
        extra={"service": service, "subject": str(principal.subject), "reason": reason},
    )
    sink = _SINK.sink
    if sink is not None:
        try:
            await sink.record(Denial(service, principal, reason, corr, entity_urn))
        except Exception as exc:  # the denial stands even if auditing it fails
            _log.error(
                "could not audit a denial",
                extra={"service": service, "error": type(exc).__name__},
            )
    return PermissionDeniedError(
        f"{service}: {reason}", service=service, subject=str(principal.subject)
    )


async def enforce_airport(
    principal: Principal, airport: Urn | str | None, *, service: str, entity_urn: Urn | None = None
) -> None:
    """Inside a service: deny (audited) unless the principal may act at ``airport``.

    Use it when the airport is known only after loading a record (a case's airport).
    """
    if not can_access_airport(principal, airport):
        raise await record_denial(
            service, principal, f"not permitted at airport {airport}", entity_urn=entity_urn
        )


P = ParamSpec("P")
R = TypeVar("R")


def requires(
    minimum: Role,
    *,
    read_only: bool = False,
    airport_arg: str | None = None,
    case_arg: str | None = None,
    passengers: bool = False,
    partner_scopes: frozenset[str] | set[str] | tuple[str, ...] = frozenset(),
    passengers_only: bool = False,
) -> Callable[[Callable[P, Awaitable[R]]], Callable[P, Awaitable[R]]]:
    """Declare and enforce who may call an async application service.

    The function takes a ``principal: Principal`` parameter (keyword recommended).
    ``minimum=FINANCE_AUDIT`` implies ``read_only``. ``airport_arg``/``case_arg`` name
    parameters holding the airport (IATA or URN) and the case URN the call acts on.
    ``passengers_only`` (see :func:`requires_passenger`) admits passenger tokens only; when
    such a service has no ``case_arg`` its body must check the token's case after loading
    the record (a record of another case is :class:`NotFoundError`).
    """
    if minimum is Role.FINANCE_AUDIT:
        read_only = True
    if passengers_only:
        passengers = True
    if passengers and case_arg is None and not passengers_only:
        raise ConfigurationError("a passenger-callable service must declare case_arg")

    def decorate(fn: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
        if not inspect.iscoroutinefunction(fn):
            raise ConfigurationError(f"@requires guards async services only ({fn.__qualname__})")
        name = f"{fn.__module__}.{fn.__qualname__}"
        sig = inspect.signature(fn)
        for needed in ("principal", airport_arg, case_arg):
            if needed is not None and needed not in sig.parameters:
                raise ConfigurationError(f"{name} has no parameter {needed!r}", service=name)
        decl = ServiceDeclaration(
            name,
            minimum,
            read_only,
            airport_arg,
            case_arg,
            passengers,
            frozenset(partner_scopes),
            passengers_only,
        )
        SERVICES[name] = decl
        SERVICE_ROLES[name] = minimum

        @functools.wraps(fn)
        async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                bound = sig.bind_partial(*args, **kwargs).arguments
            except TypeError as exc:
                raise AuthenticationError(f"{name}: {exc}") from None
            principal = bound.get("principal")
            if not isinstance(principal, Principal):
                raise AuthenticationError(f"{name} needs an authenticated principal")
            case_urn = bound.get(case_arg) if case_arg is not None else None
            reason = decide(
                decl,
                principal,
                airport=bound.get(airport_arg) if airport_arg is not None else None,
                case_urn=case_urn if isinstance(case_urn, Urn) else None,
            )
            if reason is not None:
                raise await record_denial(
                    name,
                    principal,
                    reason,
                    entity_urn=case_urn if isinstance(case_urn, Urn) else None,
                )
            return await fn(*args, **kwargs)

        wrapper.__nexa_service__ = decl  # type: ignore[attr-defined]
        wrapper.__nexa_min_role__ = minimum  # type: ignore[attr-defined]
        return wrapper

    return decorate


def requires_passenger(
    case_arg: str | None = None,
) -> Callable[[Callable[P, Awaitable[R]]], Callable[P, Awaitable[R]]]:
    """Declare a passenger-only service (operators, partners and workers are denied).

    With ``case_arg`` the guard checks the token's case; without it the body must (e.g.
    load the sub-case and compare its case to ``principal.case_urn``).
    """
    return requires(Role.SYSTEM, case_arg=case_arg, passengers_only=True)
