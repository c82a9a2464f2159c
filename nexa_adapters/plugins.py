"""The plugin manager factory and registry collection.

``get_plugin_manager()`` loads every entry point of the ``nexa`` group (built-ins are
registered exactly like third-party plugins), honouring the ``NEXA_LOAD_PLUGINS``
allow-list (comma-separated entry-point names; unset = all), then checks that every
hook implementation names a known hook.
"""

from __future__ import annotations

import importlib.metadata as md
import os
from collections.abc import Callable, Iterable
from typing import Any

import attrs
import pluggy

from nexa_adapters import hookspecs
from nexa_core.errors import PluginError

__all__ = [
    "ENTRY_POINT_GROUP",
    "PluginInfo",
    "collect",
    "get_plugin_manager",
    "plugin_infos",
]

ENTRY_POINT_GROUP = "nexa"


@attrs.frozen
class PluginInfo:
    """What ``nexa plugins list`` shows about a plugin."""

    name: str
    hooks: tuple[str, ...]
    version: str | None
    distribution: str | None


def _allow_list(allow: Iterable[str] | None) -> set[str] | None:
    if allow is not None:
        return {a.strip() for a in allow if a.strip()}
    env = os.environ.get("NEXA_LOAD_PLUGINS")
    if env is None:
        return None
    return {a.strip() for a in env.split(",") if a.strip()}


def get_plugin_manager(
    *, entrypoints: bool = True, allow: Iterable[str] | None = None, plugins: Iterable[object] = ()
) -> pluggy.PluginManager:
    """A fresh plugin manager (no global state).

    ``plugins`` are extra objects registered directly (tests, embedding applications).
    Raises :class:`PluginError` when an entry point fails to import, a name repeats or a
    hook implementation has no matching spec.
    """
    pm = pluggy.PluginManager("nexa")
    pm.add_hookspecs(hookspecs)
    info: dict[str, tuple[str | None, str | None]] = {}
    if entrypoints:
        allowed = _allow_list(allow)
        for ep in sorted(md.entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
            if allowed is not None and ep.name not in allowed:
                continue
            if pm.get_plugin(ep.name) is not None:
                raise PluginError(f"two plugins are named {ep.name!r}", plugin=ep.name)
            try:
                obj = ep.load()
            except Exception as exc:
                raise PluginError(
                    f"plugin {ep.name!r} failed to load: {exc}", plugin=ep.name
                ) from exc
            pm.register(obj, name=ep.name)
            dist = getattr(ep, "dist", None)
            info[ep.name] = (
                getattr(dist, "name", None),
                getattr(dist, "version", None),
            )
    for obj in plugins:
        name = getattr(obj, "__name__", None) or type(obj).__name__
        if pm.get_plugin(name) is not None:
            raise PluginError(f"two plugins are named {name!r}", plugin=name)
        pm.register(obj, name=name)
        info[name] = (None, None)
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        raise PluginError(f"plugin hook validation failed: {exc}") from exc
    pm.nexa_dist_info = info  # type: ignore[attr-defined]
    return pm


def plugin_infos(pm: pluggy.PluginManager) -> list[PluginInfo]:
    """Every registered plugin with its hooks and source distribution, sorted by name."""
    info: dict[str, tuple[str | None, str | None]] = getattr(pm, "nexa_dist_info", {})
    out = []
    for name, plugin in pm.list_name_plugin():
        if plugin is None:
            continue
        hooks = sorted(h.name for h in pm.get_hookcallers(plugin) or [])
        dist, ver = info.get(name, (None, None))
        out.append(PluginInfo(name=name, hooks=tuple(hooks), version=ver, distribution=dist))
    return sorted(out, key=lambda p: p.name)


def collect(pm: pluggy.PluginManager, hook: str) -> dict[str, Callable[..., Any]]:
    """Gather ``name → factory`` from a registration hook; duplicate names raise."""
    found: dict[str, Callable[..., Any]] = {}
    owners: dict[str, str] = {}
    caller = getattr(pm.hook, hook)
    for impl in caller.get_hookimpls():

        def register(
            name: str, factory: Callable[..., Any], _owner: str = impl.plugin_name
        ) -> None:
            if name in found:
                raise PluginError(
                    f"{hook}: name {name!r} registered by {owners[name]!r} and {_owner!r}",
                    hook=hook,
                    name=name,
                )
            found[name] = factory
            owners[name] = _owner

        impl.function(register=register)
    return found
