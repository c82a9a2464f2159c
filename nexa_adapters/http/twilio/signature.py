"""Twilio's request validation (``X-Twilio-Signature``), done as Twilio's own helpers do it.

The signature is the base64 HMAC-SHA1, keyed with the account's auth token, of the full
URL followed by every POST parameter's name and value: names sorted, each name's values
de-duplicated and sorted. The URL is tried with and without an explicit port (Twilio's
own signing is inconsistent about it). A JSON body is not signed as parameters: the URL
carries ``bodySHA256`` (hex SHA-256 of the raw body), which must match, and the signature
then covers the URL alone.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable, Mapping
from urllib.parse import parse_qs, parse_qsl, urlsplit, urlunsplit

from nexa_adapters.http._inbound import check_body_size, header
from nexa_core.errors import WebhookVerificationError

__all__ = [
    "Params",
    "body_sha256",
    "compute_signature",
    "validate_signature",
    "verify_request",
]

#: POST parameters: a mapping (a value may be a list of repeated values) or name/value pairs.
Params = Mapping[str, str | Iterable[str]] | Iterable[tuple[str, str]]


def _grouped(params: Params) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    pairs: Iterable[tuple[str, str | Iterable[str]]] = (
        params.items() if isinstance(params, Mapping) else params
    )
    for name, value in pairs:
        values = {value} if isinstance(value, str) else set(value)
        out.setdefault(name, set()).update(values)
    return out


def compute_signature(auth_token: str, url: str, params: Params) -> str:
    """The signature Twilio sends for ``url`` and ``params``."""
    grouped = _grouped(params)
    content = url + "".join(
        name + value for name in sorted(grouped) for value in sorted(grouped[name])
    )
    digest = hmac.new(auth_token.encode(), content.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def body_sha256(body: bytes | str) -> str:
    """``bodySHA256``: hex SHA-256 of a raw (JSON) request body."""
    data = body.encode() if isinstance(body, str) else body
    return hashlib.sha256(data).hexdigest()


def _with_port(url: str) -> str:
    parts = urlsplit(url)
    if parts.port is not None:
        return url
    port = 443 if parts.scheme == "https" else 80
    return urlunsplit(parts._replace(netloc=f"{parts.netloc}:{port}"))


def _without_port(url: str) -> str:
    parts = urlsplit(url)
    if parts.port is None:
        return url
    netloc = parts.netloc.rsplit(":", 1)[0]
    return urlunsplit(parts._replace(netloc=netloc))


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def validate_signature(
    auth_token: str, url: str, params: Params | bytes | str, signature: str
) -> bool:
    """Whether ``signature`` (the ``X-Twilio-Signature`` header) is Twilio's for the request.

    ``params`` are the form parameters, or the raw body of a JSON request (then the URL
    must carry a matching ``bodySHA256``). Constant-time comparisons throughout.
    """
    if not signature or not auth_token:
        return False
    form: Params
    if isinstance(params, bytes | str):
        claimed = parse_qs(urlsplit(url).query).get("bodySHA256")
        if not claimed or not _same(body_sha256(params), claimed[0]):
            return False
        form = {}
    else:
        form = params
    candidates = {_without_port(url), _with_port(url)}
    return any(_same(compute_signature(auth_token, u, form), signature) for u in candidates)


def verify_request(
    auth_token: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    max_bytes: int | None = None,
) -> list[tuple[str, str]]:
    """Verify an inbound Twilio request; the form parameters (empty for a JSON body).

    ``url`` is the full URL Twilio requested (as configured, with its query string).
    Raises :class:`WebhookVerificationError` when the body is too large, the signature
    header is missing or nothing matches.
    """
    check_body_size(body, "twilio", **({"max_bytes": max_bytes} if max_bytes else {}))
    signature = header(headers, "X-Twilio-Signature")
    if not signature:
        raise WebhookVerificationError("missing X-Twilio-Signature", vendor="twilio")
    content_type = (header(headers, "Content-Type") or "").split(";")[0].strip().lower()
    if content_type == "application/json":
        if not validate_signature(auth_token, url, body, signature):
            raise WebhookVerificationError("twilio signature does not match", vendor="twilio")
        return []
    try:
        form = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError:
        raise WebhookVerificationError("twilio form body is not UTF-8", vendor="twilio") from None
    if not validate_signature(auth_token, url, form, signature):
        raise WebhookVerificationError("twilio signature does not match", vendor="twilio")
    return form
