"""Partner principals: OAuth2 client credentials with scopes.

A partner (an airline integration, a hotel chain's webhook sender) holds a client id and a
secret. :meth:`PartnerAuthority.issue_token` exchanges them for a short-lived Ed25519-signed
access token carrying the granted scopes; :meth:`PartnerAuthority.verify` turns that token
into a :class:`Principal`. Secrets are stored only as scrypt hashes and compared in
constant time; an unknown client and a wrong secret fail identically.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

import attrs
import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from nexa_adapters.identity._jwt import KeySet, decode
from nexa_adapters.identity.operator import CLAIM_AIRLINE, airline_from_claim
from nexa_core.auth import Principal, PrincipalKind
from nexa_core.errors import AuthenticationError, ConfigurationError, PermissionDeniedError
from nexa_core.ports import Clock
from nexa_core.runtime import SystemClock
from nexa_core.urn import Urn

__all__ = [
    "AccessToken",
    "PartnerAuthority",
    "PartnerClient",
    "hash_client_secret",
    "verify_client_secret",
]

_CLIENT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_SCOPE = re.compile(r"[a-z][a-z0-9_.-]*(:[a-z0-9_.-]+)*")
_N, _R, _P = 2**14, 8, 1


def hash_client_secret(secret: str, *, salt: bytes | None = None) -> str:
    """``scrypt$<salt>$<hash>`` of a client secret (what a client registry stores)."""
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(secret.encode("utf-8"), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    enc = base64.urlsafe_b64encode
    return f"scrypt${enc(salt).decode()}${enc(digest).decode()}"


def verify_client_secret(secret: str, stored: str) -> bool:
    """Constant-time check of ``secret`` against a :func:`hash_client_secret` value."""
    try:
        scheme, salt_b64, digest_b64 = stored.split("$")
        salt = base64.urlsafe_b64decode(salt_b64)
        want = base64.urlsafe_b64decode(digest_b64)
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    got = hashlib.scrypt(secret.encode("utf-8"), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return hmac.compare_digest(got, want)


@attrs.frozen
class PartnerClient:
    """A registered partner client of one tenant."""

    client_id: str = attrs.field()
    airline_urn: Urn
    scopes: frozenset[str] = attrs.field(converter=frozenset)
    secret_hash: str = attrs.field(repr=False)

    @client_id.validator
    def _check_id(self, _: Any, value: str) -> None:
        if _CLIENT_ID.fullmatch(value) is None:
            raise ConfigurationError("partner client id must be 1-64 of A-Z a-z 0-9 . _ -")

    @scopes.validator
    def _check_scopes(self, _: Any, value: frozenset[str]) -> None:
        if any(_SCOPE.fullmatch(s) is None for s in value):
            raise ConfigurationError("partner scopes look like 'cases:read'")


@attrs.frozen
class AccessToken:
    """The client-credentials grant's answer (RFC 6749 §5.1 field names)."""

    access_token: str = attrs.field(repr=False)
    expires_in: int
    scope: str
    token_type: str = "Bearer"


class PartnerAuthority:
    """Issues and verifies partner access tokens for a set of registered clients."""

    def __init__(
        self,
        clients: Iterable[PartnerClient],
        *,
        signing_key: Ed25519PrivateKey,
        issuer: str = "nexa",
        audience: str = "nexa:partner",
        ttl: timedelta = timedelta(minutes=15),
        clock: Clock | None = None,
    ) -> None:
        self._clients = {c.client_id: c for c in clients}
        self._key = signing_key
        self._issuer = issuer
        self._audience = audience
        self._ttl = ttl
        self._clock = clock or SystemClock()
        self._dummy = hash_client_secret(secrets.token_hex(8))

    def _client(self, client_id: str, client_secret: str) -> PartnerClient:
        client = self._clients.get(client_id) if isinstance(client_id, str) else None
        ok = verify_client_secret(
            client_secret if isinstance(client_secret, str) else "",
            client.secret_hash if client else self._dummy,
        )
        if client is None or not ok:
            raise AuthenticationError("invalid client credentials")
        return client

    def issue_token(
        self, client_id: str, client_secret: str, scope: str | None = None
    ) -> AccessToken:
        """Exchange credentials for a token; ``scope`` (space separated) narrows the grant."""
        client = self._client(client_id, client_secret)
        wanted = set(scope.split()) if scope else set(client.scopes)
        if not wanted <= client.scopes:
            raise PermissionDeniedError(
                "requested scope exceeds the client's grant", client_id=client_id
            )
        now = self._clock.now()
        granted = " ".join(sorted(wanted))
        token = jwt.encode(
            {
                "iss": self._issuer,
                "aud": self._audience,
                "sub": client.client_id,
                "iat": int(now.timestamp()),
                "exp": int((now + self._ttl).timestamp()),
                "jti": secrets.token_hex(12),
                "scope": granted,
                CLAIM_AIRLINE: str(client.airline_urn),
            },
            self._key,
            algorithm="EdDSA",
        )
        return AccessToken(token, int(self._ttl.total_seconds()), granted)

    def verify(self, token: str) -> Principal:
        """The partner principal of a valid access token (still-registered clients only)."""
        claims = decode(
            token,
            KeySet(self._key.public_key()),
            algorithms=("EdDSA",),
            issuer=self._issuer,
            audience=self._audience,
            leeway=10.0,
            required=("exp", "iat", "iss", "aud", "sub"),
            what="partner token",
        )
        client = self._clients.get(str(claims.get("sub")))
        airline = airline_from_claim(claims.get(CLAIM_AIRLINE), "partner token")
        if client is None or client.airline_urn != airline:
            raise AuthenticationError("partner token names an unknown client")
        scope = claims.get("scope", "")
        scopes = set(scope.split()) if isinstance(scope, str) else set()
        jti = claims.get("jti")
        return Principal(
            PrincipalKind.PARTNER,
            Urn("user", f"partner.{client.client_id}"),
            client.airline_urn,
            scopes=frozenset(scopes & client.scopes),
            token_id=jti if isinstance(jti, str) and len(jti) <= 128 else None,
        )
