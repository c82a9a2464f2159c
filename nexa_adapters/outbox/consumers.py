"""The outbox relay of the composition root: which consumers ``nexa worker`` feeds.

Consumers come from the ``nexa_register_outbox_consumers`` hook (the built-in ones from
:mod:`nexa_adapters.outbox.plugin`: ``snapshots`` and ``metrics``; outbound webhook
delivery registers there too). ``settings.outbox_consumers`` picks some of them (empty:
every registered one).
"""

from __future__ import annotations

from typing import Any

from nexa_adapters.plugins import collect
from nexa_core.errors import ConfigurationError
from nexa_core.relay import OutboxConsumer, RelayRunner

__all__ = ["consumer_names", "outbox_consumers", "relay_runner"]

HOOK = "nexa_register_outbox_consumers"


def consumer_names(nexa: Any) -> list[str]:
    """The consumers the settings select, in name order (unknown names: an error)."""
    registered = collect(nexa.plugins, HOOK)
    wanted = tuple(nexa.settings.outbox_consumers) or tuple(sorted(registered))
    unknown = sorted(set(wanted) - set(registered))
    if unknown:
        raise ConfigurationError(
            f"outbox_consumers: no consumer named {', '.join(unknown)} "
            f"(have {', '.join(sorted(registered)) or 'none'})",
            setting="outbox_consumers",
        )
    return sorted(set(wanted))


def outbox_consumers(nexa: Any) -> list[OutboxConsumer]:
    """Build the selected consumers (``factory(nexa=…)``; a factory returning None — e.g.
    snapshots without a snapshot store — stays out)."""
    registered = collect(nexa.plugins, HOOK)
    out = []
    for name in consumer_names(nexa):
        consumer = registered[name](nexa=nexa)
        if consumer is not None:
            out.append(consumer)
    return out


def relay_runner(nexa: Any, *, owner: str) -> RelayRunner:
    """The relays of ``nexa``'s outbox, leased through its coordination store."""
    if nexa.store is None:
        raise ConfigurationError("the outbox relay needs the operational store (NEXA_STORE_URL)")
    locks = nexa.coordination.locks if nexa.coordination is not None else None
    return RelayRunner(nexa.store.outbox, outbox_consumers(nexa), locks=locks, owner=owner)
