"""Each package's ``__all__`` is sorted, names real objects and covers its public names."""

from __future__ import annotations

import importlib
import pkgutil
import types

import pytest

PACKAGES = ["nexa_core", "nexa_adapters", "nexa_cli"]


def _isort_key(name: str) -> tuple[int, str]:
    """isort-style order (as ruff's RUF022): CONSTANTS, then Classes, then functions."""
    if name.isupper() and len(name) > 1:
        return (0, name)
    if name[:1].isupper():
        return (1, name)
    return (2, name)


def _modules() -> list[str]:
    names = []
    for pkg in PACKAGES:
        mod = importlib.import_module(pkg)
        names.append(pkg)
        for info in pkgutil.walk_packages(mod.__path__, prefix=f"{pkg}."):
            if info.ispkg:
                names.append(info.name)
    return sorted(names)


@pytest.mark.parametrize("name", _modules())
def test_package_all_is_sorted_existing_and_complete(name: str) -> None:
    mod = importlib.import_module(name)
    exported = getattr(mod, "__all__", None)
    if exported is None:
        public = [
            n
            for n in vars(mod)
            if not n.startswith("_") and not isinstance(vars(mod)[n], types.ModuleType)
        ]
        assert not public, f"{name} defines public names but no __all__: {public}"
        return
    assert list(exported) == sorted(exported, key=_isort_key), f"{name}.__all__ is not sorted"
    assert len(set(exported)) == len(exported)
    for n in exported:
        assert hasattr(mod, n), f"{name}.__all__ names missing {n}"
    public = {
        n
        for n, v in vars(mod).items()
        if not n.startswith("_")
        and not isinstance(v, types.ModuleType)
        and n not in ("annotations",)
    }
    missing = public - set(exported)
    assert not missing, f"{name} has public names not in __all__: {sorted(missing)}"
