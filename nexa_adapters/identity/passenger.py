"""Passenger tokens: short-lived Ed25519-signed JWTs scoped to exactly one case.

A passenger link (SMS/e-mail) carries a token minted by :class:`PassengerTokens`; the
verified principal may call only services that declare ``passengers=True`` and only for
the case in the token (see :mod:`nexa_core.auth`).
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from nexa_adapters.identity._jwt import KeySet, decode
from nexa_adapters.identity.operator import CLAIM_AIRLINE, airline_from_claim
from nexa_core.auth import Principal, PrincipalKind
from nexa_core.errors import AuthenticationError, ConfigurationError, InvalidInputError, NexaError
from nexa_core.ports import Clock
from nexa_core.runtime import SystemClock
from nexa_core.urn import Urn

__all__ = [
    "CLAIM_CASE",
    "CLAIM_KIND",
    "DEFAULT_PASSENGER_TTL",
    "MAX_PASSENGER_TTL",
    "PassengerTokens",
]

CLAIM_CASE = "https://nexa/case"
CLAIM_KIND = "https://nexa/kind"
DEFAULT_PASSENGER_TTL = timedelta(minutes=30)
MAX_PASSENGER_TTL = timedelta(hours=12)


class PassengerTokens:
    """Mint (with the private key) and verify (with the public key) passenger tokens."""

    def __init__(
        self,
        *,
        private_key: Ed25519PrivateKey | None = None,
        public_key: Ed25519PublicKey | None = None,
        issuer: str = "nexa",
        audience: str = "nexa:passenger",
        ttl: timedelta = DEFAULT_PASSENGER_TTL,
        leeway: timedelta = timedelta(seconds=10),
        clock: Clock | None = None,
    ) -> None:
        if private_key is None and public_key is None:
            raise ConfigurationError("passenger tokens need an Ed25519 private or public key")
        if not timedelta(0) < ttl <= MAX_PASSENGER_TTL:
            raise ConfigurationError(f"passenger token ttl must be within {MAX_PASSENGER_TTL}")
        self._private = private_key
        self._public = public_key or (private_key.public_key() if private_key else None)
        self._issuer = issuer
        self._audience = audience
        self._ttl = ttl
        self._leeway = leeway.total_seconds()
        self._clock = clock or SystemClock()

    def mint(
        self,
        *,
        airline_urn: Urn,
        case_urn: Urn,
        passenger_urn: Urn,
        ttl: timedelta | None = None,
    ) -> str:
        """A token for one passenger and one case, valid for ``ttl`` (default 30 minutes)."""
        if self._private is None:
            raise ConfigurationError("this PassengerTokens has no private key to mint with")
        life = ttl or self._ttl
        if not timedelta(0) < life <= MAX_PASSENGER_TTL:
            raise InvalidInputError(
                f"passenger token ttl must be within {MAX_PASSENGER_TTL}", field="ttl"
            )
        if not airline_urn.is_a("airline") or not case_urn.is_a("case"):
            raise InvalidInputError("a passenger token needs an airline and a case URN")
        if not passenger_urn.is_a("passenger"):
            raise InvalidInputError("a passenger token needs a passenger URN", field="subject")
        now = self._clock.now()
        claims: dict[str, Any] = {
            "iss": self._issuer,
            "aud": self._audience,
            "sub": str(passenger_urn),
            "iat": int(now.timestamp()),
            "nbf": int(now.timestamp()),
            "exp": int((now + life).timestamp()),
            "jti": secrets.token_hex(12),
            CLAIM_KIND: "passenger",
            CLAIM_AIRLINE: str(airline_urn),
            CLAIM_CASE: str(case_urn.base),
        }
        return jwt.encode(claims, self._private, algorithm="EdDSA")

    def verify(self, token: str) -> Principal:
        """The passenger principal of a valid, unexpired token for exactly one case."""
        if self._public is None:  # pragma: no cover - guarded in __init__
            raise ConfigurationError("no public key")
        claims = decode(
            token,
            KeySet(self._public),
            algorithms=("EdDSA",),
            issuer=self._issuer,
            audience=self._audience,
            leeway=self._leeway,
            required=("exp", "iat", "iss", "aud", "sub", CLAIM_CASE),
            what="passenger token",
        )
        if claims.get(CLAIM_KIND) != "passenger":
            raise AuthenticationError("passenger token is of the wrong kind")
        iat, exp = claims.get("iat"), claims.get("exp")
        if not isinstance(iat, int) or not isinstance(exp, int):
            raise AuthenticationError("passenger token times are invalid")
        if exp - iat > MAX_PASSENGER_TTL.total_seconds():
            raise AuthenticationError("passenger token lives longer than allowed")
        case = claims.get(CLAIM_CASE)
        if not isinstance(case, str):
            raise AuthenticationError("passenger token must name exactly one case")
        try:
            case_urn = Urn.parse(case)
            subject = Urn.parse(str(claims.get("sub")))
        except NexaError:
            raise AuthenticationError(
                "passenger token names an invalid case or passenger"
            ) from None
        if not case_urn.is_a("case") or not subject.is_a("passenger"):
            raise AuthenticationError("passenger token names an invalid case or passenger")
        jti = claims.get("jti")
        return Principal(
            PrincipalKind.PASSENGER,
            subject,
            airline_from_claim(claims.get(CLAIM_AIRLINE), "passenger token"),
            case_urn=case_urn,
            token_id=jti if isinstance(jti, str) and len(jti) <= 128 else None,
        )
