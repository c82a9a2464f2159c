"""Input documents (manifests, …) validated with pydantic at the edge, then turned into
attrs domain values. Every document has a size limit and a schema."""

from nexa_adapters.documents.inventory import (
    MAX_INVENTORY_HOTELS,
    InventoryDocument,
    parse_inventory,
)
from nexa_adapters.documents.manifest import (
    MAX_MANIFEST_PASSENGERS,
    Manifest,
    ManifestDocument,
    parse_manifest,
    pydantic_problems,
)
from nexa_adapters.documents.policy import (
    MAX_POLICIES_PER_FILE,
    PolicyDocument,
    parse_policies,
    parse_policy,
    policy_json_schema,
)

__all__ = [
    "MAX_INVENTORY_HOTELS",
    "MAX_MANIFEST_PASSENGERS",
    "MAX_POLICIES_PER_FILE",
    "InventoryDocument",
    "Manifest",
    "ManifestDocument",
    "PolicyDocument",
    "parse_inventory",
    "parse_manifest",
    "parse_policies",
    "parse_policy",
    "policy_json_schema",
    "pydantic_problems",
]
