"""PyJWT plumbing shared by the verifiers: key handling and error mapping.

Every failure becomes :class:`AuthenticationError` with a fixed message; neither the token
nor PyJWT's exception text (which may quote claims) reaches the message or the chain.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import jwt

from nexa_core.errors import AuthenticationError, ConfigurationError

__all__ = ["ASYMMETRIC_ALGORITHMS", "MAX_TOKEN_BYTES", "KeySet", "decode", "unverified_claims"]

#: algorithms Nexa accepts for signed tokens (never ``none`` and never HMAC)
ASYMMETRIC_ALGORITHMS = ("RS256", "ES256", "EdDSA")
MAX_TOKEN_BYTES = 8192


class KeySet:
    """Verification keys: a JWKS document (``{"keys": [...]}``), PEM strings, key objects,
    or a :class:`jwt.PyJWKClient` (a JWKS URL, fetched and cached by PyJWT).

    With a JWKS the token's ``kid`` picks the key; PEM/objects are tried in order.
    """

    def __init__(self, keys: Mapping[str, Any] | Sequence[Any] | Any) -> None:
        self._by_kid: dict[str, Any] = {}
        self._ordered: list[Any] = []
        self._client: Any = None
        if hasattr(keys, "get_signing_key_from_jwt"):  # a jwt.PyJWKClient (JWKS URL)
            self._client = keys
            return
        if isinstance(keys, Mapping):
            try:
                jwks = jwt.PyJWKSet.from_dict(dict(keys))
            except jwt.PyJWTError as exc:
                raise ConfigurationError(f"unusable JWKS: {type(exc).__name__}") from None
            for k in jwks.keys:
                if k.key_id:
                    self._by_kid[k.key_id] = k.key
                self._ordered.append(k.key)
        elif isinstance(keys, str | bytes):
            self._ordered.append(keys)
        elif isinstance(keys, Sequence):
            self._ordered.extend(keys)
        else:
            self._ordered.append(keys)
        if not self._ordered:
            raise ConfigurationError("no verification keys configured")

    def candidates(self, kid: str | None, token: str = "") -> list[Any]:
        """Keys to try for a token with header ``kid``."""
        if self._client is not None:
            try:
                return [self._client.get_signing_key_from_jwt(token).key]
            except jwt.PyJWKClientConnectionError:
                raise AuthenticationError("signing keys are unavailable", retryable=True) from None
            except jwt.PyJWTError:
                raise AuthenticationError("token signed with an unknown key") from None
        if kid is not None and self._by_kid:
            key = self._by_kid.get(kid)
            if key is None:
                raise AuthenticationError("token signed with an unknown key")
            return [key]
        return list(self._ordered)


_MESSAGES: tuple[tuple[type[Exception], str], ...] = (
    (jwt.ExpiredSignatureError, "token has expired"),
    (jwt.ImmatureSignatureError, "token is not valid yet"),
    (jwt.InvalidAudienceError, "token audience is not accepted"),
    (jwt.InvalidIssuerError, "token issuer is not accepted"),
    (jwt.InvalidAlgorithmError, "token algorithm is not accepted"),
    (jwt.InvalidSignatureError, "token signature does not verify"),
    (jwt.InvalidKeyError, "token signature does not verify"),
    (jwt.MissingRequiredClaimError, "token lacks a required claim"),
    (jwt.InvalidIssuedAtError, "token issue time is invalid"),
    (jwt.DecodeError, "token is malformed"),
)


def _message(exc: Exception, what: str) -> str:
    for kind, text in _MESSAGES:
        if isinstance(exc, kind):
            if isinstance(exc, jwt.MissingRequiredClaimError):
                return f"{what} lacks the {exc.claim!r} claim"
            return f"{what} {text.removeprefix('token ')}"
    return f"{what} is invalid"


def _check_size(token: Any, what: str) -> str:
    if not isinstance(token, str) or not token:
        raise AuthenticationError(f"{what} is missing")
    if len(token) > MAX_TOKEN_BYTES:
        raise AuthenticationError(f"{what} is too large")
    return token


def unverified_claims(token: str, what: str = "token") -> dict[str, Any]:
    """Claims without verification (only to route to the right verifier)."""
    _check_size(token, what)
    try:
        return dict(jwt.decode(token, options={"verify_signature": False}))
    except jwt.PyJWTError:
        raise AuthenticationError(f"{what} is malformed") from None


def decode(
    token: Any,
    keys: KeySet,
    *,
    algorithms: Sequence[str],
    issuer: str | Sequence[str],
    audience: str | Sequence[str],
    leeway: float,
    required: Sequence[str],
    what: str,
) -> dict[str, Any]:
    """Verify signature, algorithm, issuer, audience, expiry (with leeway) and claims."""
    text = _check_size(token, what)
    try:
        header = jwt.get_unverified_header(text)
    except jwt.PyJWTError:
        raise AuthenticationError(f"{what} is malformed") from None
    if header.get("alg") not in algorithms:
        raise AuthenticationError(f"{what} algorithm is not accepted")
    kid = header.get("kid")
    last: Exception | None = None
    for key in keys.candidates(kid if isinstance(kid, str) else None, text):
        try:
            claims = jwt.decode(
                text,
                key=key,
                algorithms=list(algorithms),
                issuer=issuer if isinstance(issuer, str) else list(issuer),
                audience=audience if isinstance(audience, str) else list(audience),
                leeway=leeway,
                options={"require": list(required)},
            )
            return dict(claims)
        except (jwt.InvalidSignatureError, jwt.InvalidKeyError, ValueError, TypeError):
            # a wrong signature or a key of another type: try the next key
            last = jwt.InvalidSignatureError()
            continue
        except jwt.PyJWTError as exc:
            raise AuthenticationError(_message(exc, what)) from None
    raise AuthenticationError(_message(last or jwt.InvalidSignatureError(), what)) from None
