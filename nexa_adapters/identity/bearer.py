"""Route an ``Authorization: Bearer …`` header to the verifier of its audience."""

from __future__ import annotations

from typing import Protocol

from nexa_adapters.identity._jwt import unverified_claims
from nexa_core.auth import Principal
from nexa_core.errors import AuthenticationError

__all__ = ["BearerAuthenticator", "bearer_token"]


class _Verifier(Protocol):
    def verify(self, token: str) -> Principal: ...


def bearer_token(header: str | None) -> str:
    """The token of an ``Authorization`` header value (AuthenticationError if absent)."""
    if not header or not isinstance(header, str):
        raise AuthenticationError("no credentials")
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationError("credentials must be a bearer token")
    return token.strip()


class BearerAuthenticator:
    """``audience → verifier``; the unverified ``aud`` only picks which verifier runs."""

    def __init__(self, verifiers: dict[str, _Verifier]) -> None:
        self._verifiers = dict(verifiers)

    def authenticate(self, authorization: str | None) -> Principal:
        """The verified principal of an ``Authorization`` header value."""
        token = bearer_token(authorization)
        aud = unverified_claims(token).get("aud")
        auds = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else []
        for a in auds:
            if isinstance(a, str) and a in self._verifiers:
                return self._verifiers[a].verify(token)
        raise AuthenticationError("token audience is not accepted")
