"""``nexa schema`` — JSON Schemas of the input documents."""

from __future__ import annotations

import enum
from typing import Annotated, Any

import typer

from nexa_cli._common import emit, handle_errors


class Document(enum.StrEnum):
    """Documents with a published schema."""

    manifest = "manifest"
    inventory = "inventory"
    policy = "policy"


def _schema(which: Document) -> dict[str, Any]:
    if which is Document.manifest:
        from nexa_adapters.documents.manifest import ManifestDocument

        schema = ManifestDocument.model_json_schema()
        schema["title"] = "Nexa manifest"
        return schema
    if which is Document.inventory:
        from nexa_adapters.documents.inventory import InventoryDocument

        schema = InventoryDocument.model_json_schema()
        schema["title"] = "Nexa inventory"
        return schema
    from nexa_adapters.documents.policy import policy_json_schema

    return policy_json_schema()


@handle_errors
def schema_command(
    document: Annotated[Document, typer.Argument(help="manifest, inventory or policy.")],
) -> None:
    """Print the JSON Schema of an input document."""
    emit(_schema(document), as_json=True)


def register(app: typer.Typer) -> None:
    """Attach ``nexa schema``."""
    app.command("schema")(schema_command)
