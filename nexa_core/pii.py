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

#: a maximal run of digit groups separated by single spaces or dashes
_RUN = re.compile(r"(?<![0-9])[0-9]+(?:[ -][0-9]+)*(?![0-9])")
_GROUP = re.compile(r"[0-9]+")
#: necessary condition for a card: 13 digits with at most single separators between them
_MAYBE = re.compile(r"[0-9](?:[ -]?[0-9]){12}")


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


def _card_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of every Luhn-valid 13–19 digit sequence of whole digit groups.

    A card may sit next to other digits (``Room 1 4111 1111 1111 1111``): every
    contiguous sequence of groups inside a run is checked, not just the whole run.
    """
    spans: list[tuple[int, int]] = []
    if len(text) < 13 or _MAYBE.search(text) is None:
        return spans
    for run in _RUN.finditer(text):
        groups = [
            (m.start() + run.start(), m.end() + run.start(), m.group(0))
            for m in _GROUP.finditer(run.group(0))
        ]
        for i in range(len(groups)):
            digits = ""
            for j in range(i, len(groups)):
                digits += groups[j][2]
                if len(digits) > 19:
                    break
                if len(digits) >= 13 and luhn_valid(digits):
                    spans.append((groups[i][0], groups[j][1]))
    return spans


def find_card_numbers(text: str) -> list[str]:
    """Luhn-valid 13–19 digit numbers in ``text`` (spaces or dashes allowed between groups)."""
    return [text[a:b] for a, b in _card_spans(text)]


def mask_card_numbers(text: str) -> str:
    """Replace card-like numbers with ``[card]``."""
    spans = sorted(_card_spans(text))
    if not spans:
        return text
    merged: list[list[int]] = []
    for a, b in spans:
        if merged and a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    out, last = [], 0
    for a, b in merged:
        out.append(text[last:a])
        out.append("[card]")
        last = b
    out.append(text[last:])
    return "".join(out)


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
