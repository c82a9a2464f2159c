"""``nexa urn`` — inspect URNs."""

from __future__ import annotations

from typing import Annotated

import typer

from nexa_cli._common import emit, handle_errors
from nexa_core.urn import Urn

urn_app = typer.Typer(help="Parse and inspect URNs.", no_args_is_help=True)


@urn_app.command("parse")
@handle_errors
def parse(
    urn: Annotated[str, typer.Argument(help="The URN to parse.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Parse a URN and print entity, id, vendor and status."""
    u = Urn.parse(urn)
    data = {
        "entity": u.entity,
        "id": u.id,
        "vendor": u.vendor,
        "status": u.status,
        "canonical": str(u),
    }
    emit(
        data,
        as_json=as_json,
        human=lambda d: "\n".join(f"{k:9} {v if v is not None else '-'}" for k, v in d.items()),
    )


def register(app: typer.Typer) -> None:
    """Attach ``nexa urn``."""
    app.add_typer(urn_app, name="urn")
