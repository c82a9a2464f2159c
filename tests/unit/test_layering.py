"""The hexagon's import direction, checked on the source (no import side effects)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN_IN_CORE = {
    "sqlalchemy",
    "redis",
    "httpx",
    "typer",
    "nexa_adapters",
    "nexa_cli",
    "pydantic",
    "alembic",
    "psycopg",
    "dbos",
    "structlog",
    "jwt",
    "jinja2",
}
TESTING_ONLY = {"pytest", "hypothesis"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module.split(".")[0])
    return out


def _files(pkg: str) -> list[Path]:
    return sorted((ROOT / pkg).rglob("*.py"))


@pytest.mark.parametrize("path", _files("nexa_core"), ids=lambda p: str(p.relative_to(ROOT)))
def test_core_imports_no_io_library_and_no_outer_package(path: Path) -> None:
    bad = _imports(path) & FORBIDDEN_IN_CORE
    assert not bad, f"{path} imports {sorted(bad)}"
    if "testing" not in path.parts:
        assert not (_imports(path) & TESTING_ONLY), f"{path} imports test libraries"


@pytest.mark.parametrize("path", _files("nexa_adapters"), ids=lambda p: str(p.relative_to(ROOT)))
def test_adapters_never_import_the_cli(path: Path) -> None:
    assert "nexa_cli" not in _imports(path)


def test_the_guard_would_catch_a_violation(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("import sqlalchemy\nfrom redis import Redis\n")
    assert _imports(bad) & FORBIDDEN_IN_CORE == {"sqlalchemy", "redis"}
