"""Every error, hook, setting and CLI command is documented (generated reference pages)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nexa_adapters.hookspecs as hookspecs
import nexa_core.errors as errors
from nexa_adapters.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def test_generated_reference_pages_are_current() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gen_docs.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_error_hook_and_setting_appears_in_the_docs() -> None:
    text = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "docs").glob("*.md"))
    for name in errors.__all__:
        assert f"`{name}`" in text, name
    for name in vars(hookspecs):
        if name.startswith("nexa_"):
            assert f"`{name}`" in text, name
    for name in Settings.model_fields:
        assert f"NEXA_{name.upper()}" in text, name
