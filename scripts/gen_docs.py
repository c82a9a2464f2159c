"""Generate the reference pages (errors, hooks, settings, CLI) from the code.

``python scripts/gen_docs.py`` rewrites them; ``--check`` exits 1 when one is stale
(the test suite runs the check so every error, hook, setting and command is documented).
"""

from __future__ import annotations

import inspect
import sys
from pathlib import Path
from typing import Any

import typer.main

import nexa_adapters.hookspecs as hookspecs
import nexa_core.errors as errors
from nexa_adapters.settings import SECRET_FIELDS, Settings
from nexa_cli.app import app

DOCS = Path(__file__).resolve().parents[1] / "docs"


def errors_page() -> str:
    tree = (errors.__doc__ or "").split("::", 1)[1].split("``retryable``")[0].strip("\n")
    out = [
        "# Errors",
        "",
        "Every error Nexa raises on purpose is a `NexaError` (module `nexa_core.errors`). Each",
        "carries a one-line message, keyword-only `context` (safe to log) and a `retryable`",
        "flag. The CLI maps families to exit codes: invalid input 2, not found 3, conflict 4,",
        "auth 5, configuration 6, anything else 1.",
        "",
        "```text",
        tree,
        "```",
        "",
        "| error | code | retryable by default | meaning |",
        "|---|---|---|---|",
    ]
    for name in errors.__all__:
        cls = getattr(errors, name)
        doc = (cls.__doc__ or "").strip().splitlines()[0].replace("|", "\\|")
        retry = "yes" if cls.retryable_default else "no"
        out.append(f"| `{name}` | `{cls.code}` | {retry} | {doc} |")
    return "\n".join(out) + "\n"


def hooks_page() -> str:
    out = [
        "# Plugin hooks",
        "",
        "Plugins register under the `nexa` entry-point group (see",
        "[writing a plugin](writing-a-plugin.md)).",
        "Registration hooks receive a",
        "`register(name, factory)` callback; `*_from_url` hooks are `firstresult`.",
        "",
    ]
    for name, fn in sorted(vars(hookspecs).items()):
        if not name.startswith("nexa_") or not callable(fn):
            continue
        sig = str(inspect.signature(fn))
        first = "firstresult" if getattr(fn, "nexa_spec", {}).get("firstresult") else "collect"
        out += [f"## `{name}`", "", f"`{name}{sig}` — {first}", "", inspect.getdoc(fn) or "", ""]
    return "\n".join(out)


def settings_page() -> str:
    out = [
        "# Configuration",
        "",
        "Settings resolve in this order: command-line flags, then `NEXA_*` environment",
        "variables, then `nexa.toml` (a `[nexa]` table; path from `NEXA_CONFIG`), then defaults.",
        "`nexa config show` prints the resolved settings with secrets masked. List settings",
        "take comma-separated values in the environment.",
        "",
        "| setting | environment | default | meaning |",
        "|---|---|---|---|",
    ]
    for name, field in Settings.model_fields.items():
        default = field.default
        if isinstance(default, tuple):
            default = ",".join(default)
        shown = "(secret)" if name in SECRET_FIELDS else f"`{default}`" if default != "" else "—"
        out.append(f"| `{name}` | `NEXA_{name.upper()}` | {shown} | {field.description} |")
    return "\n".join(out) + "\n"


def _walk(cmd: Any, prefix: str, out: list[str]) -> None:
    if hasattr(cmd, "commands"):
        for sub_name in sorted(cmd.commands):
            _walk(cmd.commands[sub_name], f"{prefix} {sub_name}", out)
        return
    ctx = cmd.context_class(cmd, info_name=prefix)
    out += [f"## `{prefix}`", "", (cmd.help or "").strip().split("\n\n")[0], "", "```text"]
    out.append(cmd.get_usage(ctx))
    for param in cmd.get_params(ctx):
        rec = param.get_help_record(ctx)
        if rec:
            out.append(f"  {rec[0]:32} {rec[1]}")
    out += ["```", ""]


def cli_page() -> str:
    out = ["# CLI reference", "", "Generated from the Typer app (`scripts/gen_docs.py`).", ""]
    _walk(typer.main.get_command(app), "nexa", out)
    return "\n".join(out)


PAGES = {
    "errors.md": errors_page,
    "hooks.md": hooks_page,
    "configuration.md": settings_page,
    "cli.md": cli_page,
}


def main(argv: list[str]) -> int:
    stale = []
    for name, build in PAGES.items():
        text = build()
        path = DOCS / name
        if "--check" in argv:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(name)
        else:
            path.write_text(text, encoding="utf-8")
    if stale:
        print("stale docs (run python scripts/gen_docs.py):", ", ".join(stale))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
