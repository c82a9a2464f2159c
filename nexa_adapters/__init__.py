"""Concrete adapters for Nexa, each registered as a ``nexa`` plugin."""

from nexa_adapters.plugins import collect, get_plugin_manager, plugin_infos

__all__ = ["collect", "get_plugin_manager", "plugin_infos"]
