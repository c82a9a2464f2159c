"""Built-in ``outbox`` plugin: the consumers every ``nexa worker`` relays to."""

from __future__ import annotations

from typing import Any

from nexa_adapters.hookspecs import Register, hookimpl
from nexa_core.relay import EventCounters, SnapshotRefresh

__all__ = ["nexa_register_outbox_consumers"]


def _snapshots(nexa: Any, **_: Any) -> SnapshotRefresh | None:
    if nexa.snapshots is None:
        return None
    from nexa_adapters.engine.wiring import care_deps

    return SnapshotRefresh(care_deps(nexa))


def _metrics(nexa: Any, **_: Any) -> EventCounters:
    return EventCounters()


@hookimpl
def nexa_register_outbox_consumers(register: Register) -> None:
    """``snapshots`` (the passenger document follows sub-case changes) and ``metrics``
    (``nexa_outbox_events_total``)."""
    register("snapshots", _snapshots)
    register("metrics", _metrics)
