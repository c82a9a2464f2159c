"""Input documents (manifests, …) validated with pydantic at the edge, then turned into
attrs domain values. Every document has a size limit and a schema."""

from nexa_adapters.documents.manifest import (
    MAX_MANIFEST_PASSENGERS,
    Manifest,
    ManifestDocument,
    parse_manifest,
    pydantic_problems,
)
from nexa_adapters.documents.safe_json import (
    LIMITS,
    InputLimits,
    load_document,
    load_json,
    load_yaml,
)

__all__ = [
    "LIMITS",
    "MAX_MANIFEST_PASSENGERS",
    "InputLimits",
    "Manifest",
    "ManifestDocument",
    "load_document",
    "load_json",
    "load_yaml",
    "parse_manifest",
    "pydantic_problems",
]
