"""Hostile-text checks for external input: hidden characters and look-alike identifiers.

* :func:`unsafe_character` finds control characters (except tab, newline, carriage
  return), format characters (bidi overrides such as U+202E, zero-width spaces and joiners,
  the BOM, invisible tag characters), lone surrogates and private-use code points — the
  characters that make text render differently from what it is.
* :func:`reject_unsafe_text` refuses a decoded document carrying any of them in a key or a
  string value (at any depth), naming the JSON path and the code point, never the text.
* :func:`check_identifier` restricts identifiers to printable ASCII, so a Cyrillic
  ``Е`` or an Arabic-Indic digit can never pass for its Latin look-alike.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from nexa_core.errors import InputTooLargeError, InvalidInputError

__all__ = [
    "UNSAFE_CHARACTERS",
    "check_identifier",
    "check_text",
    "reject_unsafe_text",
    "unsafe_character",
]

#: Cc (minus \t \n \r), Cf, Cs and Co code points (Unicode 15), as one character class
UNSAFE_CHARACTERS = re.compile(
    "["
    "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"  # Cc
    "\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e"  # Cf
    "\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb"
    "\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3"
    "\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f"
    "\ud800-\udfff"  # Cs
    "\ue000-\uf8ff\U000f0000-\U000ffffd\U00100000-\U0010fffd"  # Co
    "]"
)
_IDENTIFIER = re.compile(r"[\x21-\x7e]+")
_MAX_DEPTH = 64


def unsafe_character(text: str) -> str | None:
    """``U+XXXX`` of the first hidden/control character in ``text`` (``None``: clean)."""
    m = UNSAFE_CHARACTERS.search(text)
    return None if m is None else f"U+{ord(m.group(0)):04X}"


def check_text(value: str, *, field: str) -> str:
    """``value`` unchanged, or InvalidInputError naming the field and code point."""
    bad = unsafe_character(value)
    if bad is not None:
        raise InvalidInputError(
            f"{field} contains a hidden or control character ({bad})", field=field
        )
    return value


def check_identifier(value: str, *, field: str, max_length: int = 128) -> str:
    """``value`` if it is 1..max_length printable ASCII characters without spaces."""
    if not isinstance(value, str) or not value or len(value) > max_length:
        raise InvalidInputError(f"{field} must be 1-{max_length} characters", field=field)
    if _IDENTIFIER.fullmatch(value) is None:
        raise InvalidInputError(
            f"{field} must be printable ASCII without spaces (no look-alike characters)",
            field=field,
        )
    return value


def reject_unsafe_text(document: Any, *, where: str = "$") -> None:
    """Refuse hidden/control characters in any key or string of a decoded document."""
    stack: list[tuple[Any, str, int]] = [(document, where, 0)]
    while stack:
        value, path, depth = stack.pop()
        if depth > _MAX_DEPTH:
            raise InputTooLargeError(f"{path}: nested deeper than {_MAX_DEPTH}", path=path)
        if isinstance(value, str):
            bad = unsafe_character(value)
            if bad is not None:
                raise InvalidInputError(
                    f"{path} contains a hidden or control character ({bad})", path=path
                )
        elif isinstance(value, Mapping):
            for k, v in value.items():
                bad_key = unsafe_character(str(k))
                if bad_key is not None:
                    raise InvalidInputError(
                        f"{path} has a key with a hidden or control character ({bad_key})",
                        path=path,
                    )
                stack.append((v, f"{path}.{k}", depth + 1))
        elif isinstance(value, list | tuple):
            stack.extend((v, f"{path}[{i}]", depth + 1) for i, v in enumerate(value))
