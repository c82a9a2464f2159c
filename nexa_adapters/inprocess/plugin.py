"""Built-in ``inprocess`` plugin: ``inprocess://`` coordination for a single process."""

from __future__ import annotations

from typing import Any

from nexa_adapters.hookspecs import hookimpl
from nexa_adapters.inprocess.coordination import InProcessCoordination


@hookimpl
def nexa_coordination_from_url(url: str, options: dict[str, Any]) -> InProcessCoordination | None:
    """``inprocess://`` → holds, locks, rate limits and breakers held in this process."""
    if not url.startswith("inprocess:"):
        return None
    return InProcessCoordination(clock=options.get("clock"))
