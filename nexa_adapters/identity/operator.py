"""Operator principals from signed JWTs (RS256 / ES256 / EdDSA), verified with PyJWT.

Claims read (namespaced as custom claims)::

    iss, aud, exp, iat             verified (expiry with leeway)
    sub                            the operator id (→ urn:user:<sub>) unless the next claim
    https://nexa/operator_urn      the operator's urn:user:… URN
    https://nexa/airline           the tenant: urn:airline:LAN (or LAN)
    https://nexa/role              one role or a list (ADMIN, OPS_SUPERVISOR, AIRPORT_OPERATOR,
                                   FINANCE_AUDIT); SYSTEM is never granted by a token
    https://nexa/airports          optional list of IATA codes the operator is limited to
    jti                            kept as the principal's token id (for audit)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from nexa_adapters.identity._jwt import ASYMMETRIC_ALGORITHMS, KeySet, decode
from nexa_core.auth import Principal, PrincipalKind, Role
from nexa_core.errors import AuthenticationError, ConfigurationError, NexaError
from nexa_core.urn import Urn

__all__ = [
    "CLAIM_AIRLINE",
    "CLAIM_AIRPORTS",
    "CLAIM_OPERATOR_URN",
    "CLAIM_ROLE",
    "OperatorTokenVerifier",
    "airline_from_claim",
]

CLAIM_AIRLINE = "https://nexa/airline"
CLAIM_ROLE = "https://nexa/role"
CLAIM_OPERATOR_URN = "https://nexa/operator_urn"
CLAIM_AIRPORTS = "https://nexa/airports"

_GRANTABLE = {r.value: r for r in Role if r is not Role.SYSTEM}


def airline_from_claim(value: Any, what: str = "token") -> Urn:
    """``urn:airline:LAN`` or ``LAN`` → the airline URN (AuthenticationError otherwise)."""
    if not isinstance(value, str) or not value or len(value) > 64:
        raise AuthenticationError(f"{what} names no airline")
    try:
        urn = Urn.parse(value) if value.lower().startswith("urn:") else Urn("airline", value)
    except NexaError:
        raise AuthenticationError(f"{what} names an invalid airline") from None
    if not urn.is_a("airline"):
        raise AuthenticationError(f"{what} names an invalid airline")
    return urn


class OperatorTokenVerifier:
    """Turns an operator's bearer token into a :class:`Principal` (or AuthenticationError)."""

    def __init__(
        self,
        *,
        keys: Mapping[str, Any] | Sequence[Any] | Any,
        issuer: str | Sequence[str],
        audience: str | Sequence[str],
        algorithms: Sequence[str] = ASYMMETRIC_ALGORITHMS,
        leeway: timedelta | float = timedelta(seconds=30),
    ) -> None:
        bad = set(algorithms) - set(ASYMMETRIC_ALGORITHMS)
        if bad or not algorithms:
            raise ConfigurationError(
                f"operator tokens accept only {list(ASYMMETRIC_ALGORITHMS)}, not {sorted(bad)}"
            )
        self._keys = KeySet(keys)
        self._issuer = issuer
        self._audience = audience
        self._algorithms = tuple(algorithms)
        self._leeway = leeway.total_seconds() if isinstance(leeway, timedelta) else float(leeway)

    def verify(self, token: str) -> Principal:
        """Verify ``token`` and build the operator principal."""
        claims = decode(
            token,
            self._keys,
            algorithms=self._algorithms,
            issuer=self._issuer,
            audience=self._audience,
            leeway=self._leeway,
            required=("exp", "iat", "iss", "aud"),
            what="operator token",
        )
        return self.principal_from_claims(claims)

    @staticmethod
    def principal_from_claims(claims: Mapping[str, Any]) -> Principal:
        """The principal of already verified claims."""
        airline = airline_from_claim(claims.get(CLAIM_AIRLINE), "operator token")
        raw_roles = claims.get(CLAIM_ROLE)
        role_list = [raw_roles] if isinstance(raw_roles, str) else raw_roles
        if not isinstance(role_list, list) or not role_list or len(role_list) > 8:
            raise AuthenticationError("operator token carries no role")
        roles = set()
        for r in role_list:
            if not isinstance(r, str) or r.upper() not in _GRANTABLE:
                raise AuthenticationError("operator token carries an unknown role")
            roles.add(_GRANTABLE[r.upper()])
        subject = _subject(claims)
        airports_claim = claims.get(CLAIM_AIRPORTS)
        airports: frozenset[str] | None = None
        if airports_claim is not None:
            if not isinstance(airports_claim, list) or len(airports_claim) > 512:
                raise AuthenticationError("operator token airports must be a list")
            try:
                airports = Principal(
                    PrincipalKind.OPERATOR, subject, airline, airports=airports_claim
                ).airports
            except NexaError:
                raise AuthenticationError("operator token lists an invalid airport") from None
        jti = claims.get("jti")
        return Principal(
            PrincipalKind.OPERATOR,
            subject,
            airline,
            frozenset(roles),
            airports,
            token_id=jti if isinstance(jti, str) and len(jti) <= 128 else None,
        )


def _subject(claims: Mapping[str, Any]) -> Urn:
    raw = claims.get(CLAIM_OPERATOR_URN)
    try:
        if isinstance(raw, str):
            urn = Urn.parse(raw)
        elif isinstance(claims.get("sub"), str):
            urn = Urn("user", claims["sub"])
        else:
            raise AuthenticationError("operator token names no operator")
    except NexaError as exc:
        if isinstance(exc, AuthenticationError):
            raise
        raise AuthenticationError("operator token names an invalid operator") from None
    if not urn.is_a("user"):
        raise AuthenticationError("operator token names an invalid operator")
    return urn
