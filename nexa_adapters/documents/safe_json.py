"""Safe decoding of external documents (JSON and YAML) with limits.

Every external input (manifest, policy, inventory, webhook body, CLI file) is decoded here
before its schema sees it. A document is refused with a typed error — and nothing else
happens — when it is:

* larger than its byte limit, not UTF-8, or not valid JSON/YAML (:class:`InvalidInputError`);
* nested deeper than ``max_depth`` or holding more than ``max_items`` values
  (:class:`InputTooLargeError`);
* using ``NaN``/``Infinity`` or a float that overflows, an integer with more than
  ``max_int_digits`` digits, a duplicate key, a YAML alias (billion-laughs), a string longer
  than ``max_string_chars``, or a hidden/control character in a key or string
  (:class:`InvalidInputError`; see :mod:`nexa_core.text`).

Messages name the document and a JSON path, never the offending content.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any, Literal

import attrs
import yaml

from nexa_core.errors import InputTooLargeError, InvalidInputError
from nexa_core.text import unsafe_character

__all__ = [
    "LIMITS",
    "InputLimits",
    "load_document",
    "load_json",
    "load_yaml",
]


@attrs.frozen
class InputLimits:
    """The limits of one kind of external input."""

    max_bytes: int
    max_depth: int = 32
    max_items: int = 2_000_000
    max_int_digits: int = 20
    max_string_chars: int = 65_536


MB = 1024 * 1024
#: limits per input kind (callers pick theirs; ``cli`` is the default for files)
LIMITS: Mapping[str, InputLimits] = {
    "manifest": InputLimits(20 * MB),
    "policy": InputLimits(1 * MB, max_items=100_000),
    "inventory": InputLimits(10 * MB),
    "webhook": InputLimits(256 * 1024, max_depth=16, max_items=10_000, max_string_chars=16_384),
    "cli": InputLimits(20 * MB),
}


class _Refused(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _as_text(raw: bytes | str, limits: InputLimits, what: str) -> str:
    size = len(raw.encode("utf-8", "surrogatepass")) if isinstance(raw, str) else len(raw)
    if size > limits.max_bytes:
        raise InputTooLargeError(
            f"{what} is larger than {limits.max_bytes} bytes", limit=limits.max_bytes
        )
    if isinstance(raw, str):
        return raw
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInputError(f"{what} is not UTF-8 (byte {exc.start})") from None


def _check_tree(value: Any, limits: InputLimits, what: str) -> None:
    """Depth, item count, numbers and strings of a decoded document (iterative)."""
    stack: list[tuple[Any, str, int]] = [(value, "$", 0)]
    items = 0
    while stack:
        v, path, depth = stack.pop()
        items += 1
        if items > limits.max_items:
            raise InputTooLargeError(
                f"{what} holds more than {limits.max_items} values", limit=limits.max_items
            )
        if depth > limits.max_depth:
            raise InputTooLargeError(
                f"{what}: {path} is nested deeper than {limits.max_depth}", path=path
            )
        if isinstance(v, bool) or v is None:
            continue
        if isinstance(v, int):
            if len(str(abs(v))) > limits.max_int_digits:
                raise InvalidInputError(f"{what}: {path} is an integer too large", path=path)
        elif isinstance(v, float):
            if not math.isfinite(v):
                raise InvalidInputError(
                    f"{what}: {path} is not a finite number (NaN/Infinity are refused)", path=path
                )
        elif isinstance(v, str):
            _check_string(v, path, limits, what)
        elif isinstance(v, dict):
            for k, child in v.items():
                key = k if isinstance(k, str) else str(k)
                _check_string(key, f"{path}.<key>", limits, what)
                if not isinstance(k, str):
                    raise InvalidInputError(f"{what}: {path} has a non-string key", path=path)
                stack.append((child, f"{path}.{key}", depth + 1))
        elif isinstance(v, list):
            stack.extend((c, f"{path}[{i}]", depth + 1) for i, c in enumerate(v))


def _check_string(s: str, path: str, limits: InputLimits, what: str) -> None:
    if len(s) > limits.max_string_chars:
        raise InputTooLargeError(
            f"{what}: {path} is longer than {limits.max_string_chars} characters", path=path
        )
    bad = unsafe_character(s)
    if bad is not None:
        raise InvalidInputError(
            f"{what}: {path} contains a hidden or control character ({bad})", path=path
        )


def load_json(
    raw: bytes | str, *, limits: InputLimits = LIMITS["cli"], what: str = "document"
) -> Any:
    """Decode a JSON document under ``limits`` (see the module docstring)."""
    text = _as_text(raw, limits, what)

    def constant(name: str) -> Any:
        raise _Refused(f"{what} uses {name}; only finite numbers are accepted")

    def integer(s: str) -> int:
        if len(s.lstrip("-")) > limits.max_int_digits:
            raise _Refused(f"{what} has an integer with more than {limits.max_int_digits} digits")
        return int(s)

    def real(s: str) -> float:
        if len(s) > 64:
            raise _Refused(f"{what} has a number literal longer than 64 characters")
        f = float(s)
        if not math.isfinite(f):
            raise _Refused(f"{what} has a number out of range")
        return f

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for k, v in items:
            if k in out:
                raise _Refused(f"{what} repeats a key in one object")
            out[k] = v
        return out

    try:
        value = json.loads(
            text,
            parse_constant=constant,
            parse_int=integer,
            parse_float=real,
            object_pairs_hook=pairs,
        )
    except _Refused as exc:
        raise InvalidInputError(exc.message) from None
    except RecursionError:
        raise InputTooLargeError(f"{what} is nested too deeply") from None
    except json.JSONDecodeError as exc:
        raise InvalidInputError(
            f"{what} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    _check_tree(value, limits, what)
    return value


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader without aliases (no entity expansion) and without duplicate keys."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            raise _Refused("YAML aliases are not accepted")
        return super().compose_node(parent, index)

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                if key in seen:
                    raise _Refused("a key is repeated in one mapping")
                seen.add(key)
            except TypeError:
                raise _Refused("a mapping key is not a plain value") from None
        return super().construct_mapping(node, deep=deep)


def load_yaml(
    raw: bytes | str, *, limits: InputLimits = LIMITS["cli"], what: str = "document"
) -> Any:
    """Decode a YAML document under ``limits`` (no aliases, no duplicate keys)."""
    text = _as_text(raw, limits, what)
    bad = unsafe_character(text.replace("\ufeff", "", 1) if text.startswith("\ufeff") else text)
    if bad is not None:
        raise InvalidInputError(f"{what} contains a hidden or control character ({bad})")
    try:
        value = yaml.load(text, Loader=_StrictLoader)
    except _Refused as exc:
        raise InvalidInputError(f"{what}: {exc.message}") from None
    except RecursionError:
        raise InputTooLargeError(f"{what} is nested too deeply") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1} column {mark.column + 1}" if mark else ""
        raise InvalidInputError(f"{what} is not valid YAML{where}") from None
    except (ValueError, TypeError, OverflowError):
        raise InvalidInputError(f"{what} has a value YAML cannot represent") from None
    _check_tree(value, limits, what)
    return value


def load_document(
    raw: bytes | str,
    *,
    format: Literal["json", "yaml"] = "json",
    limits: InputLimits = LIMITS["cli"],
    what: str = "document",
) -> Any:
    """:func:`load_json` or :func:`load_yaml`."""
    if format == "yaml":
        return load_yaml(raw, limits=limits, what=what)
    return load_json(raw, limits=limits, what=what)
