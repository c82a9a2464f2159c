"""The one cattrs converter: attrs values ⇄ JSON-compatible primitives.

URNs become strings, Decimals strings (never floats), datetimes ISO 8601 with offset,
frozensets sorted lists. ``unstructure``/``structure`` round-trip every model type.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar, get_origin

import cattrs

from nexa_core.urn import Urn

__all__ = ["converter", "dumps", "loads", "structure", "unstructure"]

T = TypeVar("T")


def _make() -> cattrs.Converter:
    c = cattrs.Converter(forbid_extra_keys=False)
    c.register_unstructure_hook(Urn, str)
    c.register_structure_hook(Urn, lambda v, _: v if isinstance(v, Urn) else Urn.parse(v))
    c.register_unstructure_hook(Decimal, str)
    c.register_structure_hook(Decimal, lambda v, _: Decimal(str(v)))
    c.register_unstructure_hook(datetime, lambda v: v.isoformat())
    c.register_structure_hook(
        datetime, lambda v, _: v if isinstance(v, datetime) else datetime.fromisoformat(v)
    )
    c.register_unstructure_hook(date, lambda v: v.isoformat())
    c.register_structure_hook(
        date, lambda v, _: v if isinstance(v, date) else date.fromisoformat(v)
    )

    def _unstructure_set(value: frozenset[Any]) -> list[Any]:
        items = [c.unstructure(v) for v in value]
        return sorted(items, key=lambda x: json.dumps(x, sort_keys=True, default=str))

    def _is_set(tp: Any) -> bool:
        return tp in (frozenset, set) or get_origin(tp) in (frozenset, set)

    c.register_unstructure_hook_func(_is_set, _unstructure_set)
    return c


converter = _make()


def unstructure(value: Any) -> Any:
    """Primitives (dict/list/str/int/bool/None) for ``value``."""
    return converter.unstructure(value)


def structure(data: Any, cls: type[T]) -> T:
    """Rebuild an instance of ``cls`` from primitives."""
    return converter.structure(data, cls)


def dumps(value: Any) -> str:
    """Compact JSON for ``value`` (sorted keys)."""
    return json.dumps(unstructure(value), sort_keys=True, separators=(",", ":"))


def loads(text: str, cls: type[T]) -> T:
    """Inverse of :func:`dumps`."""
    return structure(json.loads(text), cls)
