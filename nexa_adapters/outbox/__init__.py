"""The outbox relay of the composition root: which consumers ``nexa worker`` feeds."""

from nexa_adapters.outbox.consumers import consumer_names, outbox_consumers, relay_runner

__all__ = ["consumer_names", "outbox_consumers", "relay_runner"]
