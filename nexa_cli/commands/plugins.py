"""``nexa plugins`` — what is installed."""

from __future__ import annotations

from typing import Annotated

import typer

from nexa_adapters.plugins import get_plugin_manager, plugin_infos
from nexa_cli._common import emit, handle_errors

plugins_app = typer.Typer(help="List installed plugins.", no_args_is_help=True)


@plugins_app.command("list")
@handle_errors
def list_plugins(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List plugins with their hooks and source distribution."""
    infos = plugin_infos(get_plugin_manager())
    data = [
        {
            "name": p.name,
            "version": p.version,
            "distribution": p.distribution,
            "hooks": list(p.hooks),
        }
        for p in infos
    ]

    def human(rows: list[dict[str, object]]) -> str:
        lines = []
        for r in rows:
            lines.append(f"{r['name']} ({r['distribution'] or '-'} {r['version'] or ''})".rstrip())
            lines.extend(f"  {h}" for h in r["hooks"])  # type: ignore[attr-defined]
        return "\n".join(lines)

    emit(data, as_json=as_json, human=human)


def register(app: typer.Typer) -> None:
    """Attach ``nexa plugins``."""
    app.add_typer(plugins_app, name="plugins")
