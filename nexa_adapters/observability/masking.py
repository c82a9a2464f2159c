"""Masking of secrets, contact data and card numbers — a structlog processor and helpers.

* Values under secret-looking keys (``password``, ``secret``, ``token``, ``authorization``,
  ``api_key``, ``client_secret``, ``cookie``, ``private_key``, …) become ``********``.
* In every string anywhere in the event dict (nested dicts/lists, the message, rendered
  exceptions, ``str()`` of other objects): bearer tokens and JWTs → ``[token]``,
  ``key=value`` secrets → ``key=********``, e-mail addresses → ``[email]``, Luhn-valid card
  numbers → ``[card]`` (:func:`nexa_core.pii.mask_card_numbers`), E.164 phone numbers →
  ``[phone]``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, MutableMapping
from typing import Any

from nexa_core.pii import find_card_numbers, luhn_valid, mask_card_numbers

__all__ = [
    "EMAIL_RE",
    "JWT_RE",
    "MASK",
    "PHONE_RE",
    "SECRET_KEY_WORDS",
    "is_secret_key",
    "mask_event_dict",
    "mask_text",
    "mask_value",
]

MASK = "********"
#: normalised key endings that mark a secret (``x_api_key`` → ``xapikey`` ends with ``apikey``)
SECRET_KEY_WORDS = (
    "password",
    "passwd",
    "pwd",
    "secret",
    "token",
    "authorization",
    "apikey",
    "privatekey",
    "secretkey",
    "signingkey",
    "cookie",
    "credential",
    "credentials",
    "passphrase",
    "cvv",
    "cvc",
    "pan",
    "cardnumber",
)
#: identifiers that merely end like a secret word
_NOT_SECRET = frozenset({"tokenid", "tokentype", "tokens", "japan", "span"})

EMAIL_RE = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
PHONE_RE = re.compile(r"(?<![\w+])\+[1-9](?:[ .()-]{0,2}[0-9]){6,14}(?![0-9])")
JWT_RE = re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*")
_BEARER_RE = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{6,}")
_INLINE_SECRET_RE = re.compile(
    r"(?i)\b([A-Za-z_-]*(?:password|passwd|secret|token|api[_-]?key|authorization))"
    r"(\"?\s*[:=]\s*\"?)([^\s\"',;&]+)"
)
_MAX_DEPTH = 12
_MAX_TEXT = 16_384


def _norm(key: str) -> str:
    return re.sub(r"[^a-z0-9]", "", key.lower())


_SECRET_END = re.compile("(?:" + "|".join(SECRET_KEY_WORDS) + ")$")


@functools.lru_cache(maxsize=4096)
def _secret_name(key: str) -> bool:
    k = _norm(key)
    return k not in _NOT_SECRET and _SECRET_END.search(k) is not None


def is_secret_key(key: object) -> bool:
    """Whether a dict key names a secret."""
    return isinstance(key, str) and _secret_name(key)


def mask_text(text: str) -> str:
    """``text`` with tokens, inline secrets, e-mails, card numbers and phones masked."""
    if len(text) > _MAX_TEXT:
        text = text[:_MAX_TEXT] + "…[truncated]"
    out = text
    if "eyJ" in out:
        out = JWT_RE.sub("[token]", out)
    if " " in out:
        out = _BEARER_RE.sub(lambda m: f"{m.group(1)} [token]", out)
    if "=" in out or ":" in out:
        out = _INLINE_SECRET_RE.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}", out)
    if "@" in out:
        out = EMAIL_RE.sub("[email]", out)
    if find_card_numbers(out):
        out = mask_card_numbers(out)
    if "+" in out:
        out = PHONE_RE.sub("[phone]", out)
    return out


def mask_value(value: Any, _depth: int = 0) -> Any:
    """A masked copy of ``value`` (containers are rebuilt; other objects become strings)."""
    if value is None or isinstance(value, bool | float):
        return value
    if isinstance(value, int):
        digits = str(abs(value))
        return "[card]" if 13 <= len(digits) <= 19 and luhn_valid(digits) else value
    if isinstance(value, str):
        return mask_text(value)
    if _depth >= _MAX_DEPTH:
        return "[…]"
    if isinstance(value, Mapping):
        return {
            k: (MASK if is_secret_key(k) and v is not None else mask_value(v, _depth + 1))
            for k, v in value.items()
        }
    if isinstance(value, list | tuple | set | frozenset):
        return [mask_value(v, _depth + 1) for v in value]
    if isinstance(value, bytes | bytearray):
        return f"[{len(value)} bytes]"
    return mask_text(str(value))


def mask_event_dict(
    logger: Any, method_name: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """The structlog processor: mask every key and value of the event dict in place."""
    for key in list(event_dict):
        value = event_dict[key]
        if key.startswith("_"):  # structlog internals (_record, _from_structlog)
            continue
        if is_secret_key(key) and value is not None:
            event_dict[key] = MASK
        else:
            event_dict[key] = mask_value(value)
    return event_dict
