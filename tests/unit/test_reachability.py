"""Architecture rule: every production module is used by production code (one path).

A module counts as used when another production module imports it or a name it defines
(a package ``__init__`` merely re-exporting it does not count), when ``pyproject.toml``
names it (entry points), when its package loads its own folder (``pkgutil.iter_modules``)
or when production code names it in a string constant. Tests never count. A module only
tests reach is a capability users do not get: wire it into the product or delete it.
"""

from __future__ import annotations

import ast
import functools
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[2]
PACKAGES = ("nexa_core", "nexa_adapters", "nexa_cli")

#: Modules allowed to be unreached for now — each says what must wire it. Keep it short:
#: an entry is a known gap, never a place to park code.
ALLOWED_UNREACHED: dict[str, str] = {
    # the HTTP API surfaces (operator, partner, passenger, metrics endpoint) wire these
    "nexa_adapters/identity/bearer.py": "HTTP API: operator bearer-token authentication",
    "nexa_adapters/identity/partner.py": "HTTP API: partner service-token authentication",
    "nexa_adapters/identity/passenger.py": "HTTP API: passenger magic-link tokens",
    "nexa_adapters/observability/http.py": "HTTP API: the metrics/health endpoint",
}


def _module_of(path: pathlib.Path) -> str:
    parts = list(path.with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _resolve(pkg: str, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    up = pkg.split(".")[: len(pkg.split(".")) - node.level + 1]
    return ".".join(up + ([node.module] if node.module else []))


def unreached(root: pathlib.Path = ROOT) -> list[str]:
    """Production modules (paths relative to ``root``) no production module uses."""
    files = sorted(p.relative_to(root) for r in PACKAGES for p in (root / r).rglob("*.py"))
    mods = {_module_of(p): p for p in files}
    trees: dict[str, ast.Module] = {}
    pkgs: dict[str, str] = {}
    texts: dict[str, str] = {}
    for p in files:
        m = _module_of(p)
        pkgs[m] = m if p.name == "__init__.py" else m.rpartition(".")[0]
        texts[m] = (root / p).read_text(encoding="utf-8", errors="replace")
        try:
            trees[m] = ast.parse(texts[m])
        except SyntaxError:
            trees[m] = ast.Module(body=[], type_ignores=[])
    # what each package __init__ re-exports: name -> defining module
    reexport: dict[str, dict[str, str]] = {}
    for m, p in mods.items():
        if p.name != "__init__.py":
            continue
        for node in ast.walk(trees[m]):
            if isinstance(node, ast.ImportFrom):
                src = _resolve(pkgs[m], node)
                for a in node.names:
                    full = f"{src}.{a.name}"
                    reexport.setdefault(m, {})[a.asname or a.name] = full if full in mods else src

    def mark(target: str, name: str | None, seen: set[str], out: set[str]) -> None:
        full = f"{target}.{name}" if name else target
        if full in mods:
            out.add(full)
            return
        if target in mods and mods[target].name != "__init__.py":
            out.add(target)
            return
        src = reexport.get(target, {}).get(name or "")
        if src and src not in seen:
            seen.add(src)
            mark(src, None, seen, out)

    used: set[str] = set()
    pyproject = root / "pyproject.toml"
    text = pyproject.read_text(encoding="utf-8") if pyproject.exists() else ""
    used.update(m for m in mods if m and m in text)
    for m, tree in trees.items():
        if "iter_modules" in texts[m]:
            used.update(k for k in mods if k.startswith(pkgs[m] + "."))
        if mods[m].name == "__init__.py":
            continue  # re-exports are not uses
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for a in node.names:
                    mark(a.name, None, set(), used)
            elif isinstance(node, ast.ImportFrom):
                base = _resolve(pkgs[m], node)
                for a in node.names:
                    mark(base, a.name, set(), used)
            elif (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and node.value in mods
            ):
                used.add(node.value)
    out = []
    for p in files:
        if p.name in ("__init__.py", "__main__.py") or {"testing", "migrations"} & set(p.parts):
            continue
        if _module_of(p) not in used:
            out.append(p.as_posix())
    return out


@functools.cache
def _repo_unreached() -> frozenset[str]:
    return frozenset(unreached())


def test_every_production_module_is_reached_by_production_code() -> None:
    found = _repo_unreached()
    unexpected = sorted(found - set(ALLOWED_UNREACHED))
    assert not unexpected, (
        "only tests use these modules — wire them into the product (saga, CLI, API, "
        f"documented facade) or delete them: {unexpected}"
    )


def test_the_allow_list_holds_no_module_that_is_reached_or_gone() -> None:
    found = _repo_unreached()
    stale = sorted(set(ALLOWED_UNREACHED) - found)
    assert not stale, f"reached (or removed) now: drop them from ALLOWED_UNREACHED: {stale}"


def test_the_check_finds_a_module_only_a_test_imports(tmp_path: pathlib.Path) -> None:
    pkg = tmp_path / "nexa_core"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("from nexa_core.orphan import helper\n", "utf-8")
    (pkg / "used.py").write_text("def f():\n    return 1\n", "utf-8")
    (pkg / "orphan.py").write_text("def helper():\n    return 2\n", "utf-8")
    (pkg / "app.py").write_text("from nexa_core.used import f\n", "utf-8")
    for other in ("nexa_adapters", "nexa_cli"):
        (tmp_path / other).mkdir()
    tests = tmp_path / "tests"
    tests.mkdir()
    (tests / "test_x.py").write_text("from nexa_core.orphan import helper\n", "utf-8")
    # app is the entry point named by the project file; orphan is only re-exported
    (tmp_path / "pyproject.toml").write_text('nexa = "nexa_core.app:main"\n', "utf-8")
    assert unreached(tmp_path) == ["nexa_core/orphan.py"]
