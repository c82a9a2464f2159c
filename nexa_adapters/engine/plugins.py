"""Built-in engine plugins: ``engine-inprocess`` (``inprocess://``) and ``engine-dbos``.

``dbos+sqlite:///./nexa-engine.db`` (embedded default) or ``dbos+postgresql://…`` (several
workers); query parameters ``executor``, ``version`` and ``concurrency`` override the
executor id (default ``$NEXA_EXECUTOR_ID`` or the host name), the application version and
the per-worker concurrency.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from nexa_adapters.hookspecs import hookimpl

__all__ = ["dbos_plugin", "inprocess_plugin"]


@hookimpl
def _inprocess_engine_from_url(url: str, options: dict[str, Any]) -> Any:
    if not url.startswith("inprocess:"):
        return None
    from nexa_adapters.engine.inprocess import InProcessEngine

    return InProcessEngine(time_scale=float(options.get("engine_time_scale", 1.0)))


@hookimpl
def _dbos_engine_from_url(url: str, options: dict[str, Any]) -> Any:
    if not url.startswith("dbos+"):
        return None
    from nexa_adapters.engine.dbos_engine import DbosEngine

    return DbosEngine.from_url(url, time_scale=float(options.get("engine_time_scale", 1.0)))


#: entry point ``engine-inprocess``
inprocess_plugin = SimpleNamespace(nexa_engine_from_url=_inprocess_engine_from_url)
#: entry point ``engine-dbos``
dbos_plugin = SimpleNamespace(nexa_engine_from_url=_dbos_engine_from_url)
