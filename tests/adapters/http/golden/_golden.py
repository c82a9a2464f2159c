"""Fixtures of the vendors' published material (see each vendor's ``SOURCE.md``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema

HERE = Path(__file__).parent


def load(vendor: str, name: str) -> Any:
    """A stored fact (JSON) of ``vendor``."""
    return json.loads((HERE / vendor / name).read_text(encoding="utf-8"))


def raw(vendor: str, name: str) -> bytes:
    """A stored fact as the exact bytes (signed payloads)."""
    return (HERE / vendor / name).read_bytes()


def _nullable(node: Any) -> Any:
    """OpenAPI 3.0 ``nullable: true`` as JSON Schema (the type also admits ``null``)."""
    if isinstance(node, list):
        return [_nullable(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: _nullable(v) for k, v in node.items() if k != "nullable"}
    if node.get("nullable") is True and isinstance(node.get("type"), str):
        out["type"] = [node["type"], "null"]
        if "enum" in out:
            out["enum"] = [*out["enum"], None]
    return out


def _validator(vendor: str, schema: str) -> Any:
    """``file.json`` (a schema) or ``file.json#Name`` (a named schema inside the file)."""
    name, _, part = schema.partition("#")
    doc = _nullable(load(vendor, name))
    if part:
        where = "components/schemas" if "components" in doc else "definitions"
        doc = {**doc, "$ref": f"#/{where}/{part}"}
    cls = jsonschema.validators.validator_for(doc, default=jsonschema.Draft202012Validator)
    cls.check_schema(doc)
    return cls(doc, format_checker=cls.FORMAT_CHECKER)


def validate(vendor: str, schema: str, instance: Any) -> None:
    """Raise :class:`jsonschema.ValidationError` unless ``instance`` fits the schema."""
    _validator(vendor, schema).validate(instance)


def errors(vendor: str, schema: str, instance: Any) -> list[str]:
    """The schema violations of ``instance`` (empty: valid)."""
    return [e.message for e in _validator(vendor, schema).iter_errors(instance)]
