"""The toxic-PII boundary: no documents, no card numbers.

* :func:`reject_document_fields` refuses input that carries passport, national-id or
  document-number fields (at any depth).
* :func:`find_card_numbers` spots Luhn-valid 13–19 digit runs (spaces or dashes allowed
  between digits); stores refuse them and the log processor masks them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from nexa_core.errors import InputTooLargeError, PIIRejectedError

__all__ = [
    "FORBIDDEN_FIELDS",
    "find_card_numbers",
    "luhn_valid",
    "mask_card_numbers",
    "reject_card_numbers",
    "reject_document_fields",
]

#: Normalised (lower-case, no separators) field names that are never accepted.
FORBIDDEN_FIELDS = frozenset(
    {
        "passport",
        "passportnumber",
        "passportno",
        "passportexpiry",
        "passportcountry",
        "nationalid",
        "nationalidnumber",
        "dni",
        "cpf",
        "rut",
        "ssn",
        "idnumber",
        "documentnumber",
        "documentno",
        "document",
        "documents",
        "traveldocument",
        "traveldocuments",
        "idcard",
        "visa",
        "visanumber",
        "dateofbirth",
        "birthdate",
        "dob",
        "pan",
        "cardnumber",
        "cvv",
        "cvc",
    }
)

_CANDIDATE = re.compile(r"(?<![0-9])(?:[0-9][ -]?){12,18}[0-9](?![0-9])")


def _norm(key: str) -> str:
    return re.sub(r"[^a-z0-9]", "", key.lower())


def luhn_valid(digits: str) -> bool:
    """The Luhn checksum of a digit string."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def find_card_numbers(text: str) -> list[str]:
    """Luhn-valid 13–19 digit runs in ``text``."""
    found = []
    for m in _CANDIDATE.finditer(text):
        digits = re.sub(r"[ -]", "", m.group(0))
        if 13 <= len(digits) <= 19 and luhn_valid(digits):
            found.append(m.group(0))
    return found


def mask_card_numbers(text: str) -> str:
    """Replace card-like numbers with ``[card]``."""
    out = text
    for hit in find_card_numbers(text):
        out = out.replace(hit, "[card]")
    return out


def _walk(value: Any, path: str, depth: int = 0) -> Iterator[tuple[bool, str, Any]]:
    """Yield (is_key, path, item) for every key and leaf value."""
    if depth > 64:  # refuse rather than skip: nothing may hide below the walk's reach
        raise InputTooLargeError(f"{path}: nested deeper than 64 levels", path=path)
    if isinstance(value, Mapping):
        for k, v in value.items():
            yield True, f"{path}.{k}", k
            yield from _walk(v, f"{path}.{k}", depth + 1)
    elif isinstance(value, list | tuple):
        for i, v in enumerate(value):
            yield from _walk(v, f"{path}[{i}]", depth + 1)
    else:
        yield False, path, value


def reject_document_fields(document: Any, *, where: str = "$") -> None:
    """Raise PIIRejectedError if any key names a document/passport/card field."""
    for is_key, path, key in _walk(document, where):
        if is_key and isinstance(key, str) and _norm(key) in FORBIDDEN_FIELDS:
            raise PIIRejectedError(
                f"field {path} is not accepted: Nexa never stores passport, national-id, "
                "document or card data",
                path=path,
            )


def reject_card_numbers(document: Any, *, where: str = "$") -> None:
    """Raise PIIRejectedError if any string value contains a card-like number."""
    for _, path, value in _walk(document, where):
        if isinstance(value, str) and find_card_numbers(value):
            raise PIIRejectedError(
                f"value at {path} looks like a card number; card data is never stored",
                path=path,
            )
