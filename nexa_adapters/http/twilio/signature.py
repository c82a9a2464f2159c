"""Twilio's request validation (``X-Twilio-Signature``) for status callbacks.

The signature is the base64 HMAC-SHA1, keyed with the account's auth token, of the full
callback URL followed by every POST parameter's name and value, sorted by name.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable, Mapping
from urllib.parse import urlsplit, urlunsplit

__all__ = ["compute_signature", "validate_signature"]


def _pairs(params: Mapping[str, str | Iterable[str]]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for key, value in params.items():
        if isinstance(value, str):
            out.append((key, value))
        else:
            out.extend((key, v) for v in sorted(value))
    return sorted(out, key=lambda kv: kv[0])


def compute_signature(auth_token: str, url: str, params: Mapping[str, str | Iterable[str]]) -> str:
    """The signature Twilio would send for ``url`` and ``params``."""
    content = url + "".join(k + v for k, v in _pairs(params))
    digest = hmac.new(auth_token.encode(), content.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def _port_variants(url: str) -> list[str]:
    parts = urlsplit(url)
    default = {"https": 443, "http": 80}.get(parts.scheme)
    host = parts.hostname or ""
    variants = [url]
    if parts.port is None and default is not None:
        variants.append(urlunsplit(parts._replace(netloc=f"{host}:{default}")))
    elif parts.port == default:
        variants.append(urlunsplit(parts._replace(netloc=host)))
    return variants


def validate_signature(
    auth_token: str, url: str, params: Mapping[str, str | Iterable[str]], signature: str
) -> bool:
    """Whether ``signature`` (the ``X-Twilio-Signature`` header) is Twilio's for the request.

    Constant-time; the URL is tried as given and with/without the default port, as
    Twilio's own helpers do.
    """
    if not signature or not auth_token:
        return False
    return any(
        hmac.compare_digest(compute_signature(auth_token, u, params).encode(), signature.encode())
        for u in _port_variants(url)
    )
