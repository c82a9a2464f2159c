"""Input documents (manifests, …) validated with pydantic at the edge, then turned into
attrs domain values. Every document has a size limit and a schema."""

from nexa_adapters.documents.manifest import (
    MAX_MANIFEST_PASSENGERS,
    Manifest,
    ManifestDocument,
    parse_manifest,
    pydantic_problems,
)

__all__ = [
    "MAX_MANIFEST_PASSENGERS",
    "Manifest",
    "ManifestDocument",
    "parse_manifest",
    "pydantic_problems",
]
