"""Subprocess for the kill test: writes state+audit+outbox in transactions while a relay
hands records to a deduplicating consumer, until it is SIGKILLed.

Usage: ``python -m tests.sql.outbox_worker <store-url> <consumer.db> <round>``, then
``go`` on stdin once it printed ``ready``.
"""

from __future__ import annotations

import random
import sqlite3
import sys

import anyio
import attrs

from nexa_adapters.sql import SqlStore
from nexa_core.model import Actor, AuditEntry, DomainEvent
from nexa_core.ports import OutboxRecord
from nexa_core.relay import OutboxRelay
from nexa_core.runtime import SystemClock
from nexa_core.tenancy import TenantContext
from nexa_core.testing.builders import make_case
from nexa_core.urn import Urn

LAN = TenantContext.system("urn:airline:LAN")
CONSUMER = "kill-test"


class DedupConsumer:
    """The workflow-engine side: applies each event key once (a unique key in its own DB)."""

    def __init__(self, path: str) -> None:
        self.db = sqlite3.connect(path, timeout=30, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS applied (key TEXT PRIMARY KEY, position INTEGER)"
        )
        self.db.execute("CREATE TABLE IF NOT EXISTS deliveries (key TEXT, position INTEGER)")

    async def handle(self, record: OutboxRecord) -> None:
        self.db.execute("BEGIN IMMEDIATE")
        self.db.execute("INSERT INTO deliveries VALUES (?, ?)", (record.event.key, record.position))
        self.db.execute(
            "INSERT INTO applied VALUES (?, ?) ON CONFLICT (key) DO NOTHING",
            (record.event.key, record.position),
        )
        self.db.execute("COMMIT")


def relay_for(store: SqlStore, consumer: DedupConsumer) -> OutboxRelay:
    return OutboxRelay(store.outbox, CONSUMER, consumer.handle, batch=20)


async def write_forever(store: SqlStore, round_no: int) -> None:
    clock = SystemClock()
    i = 0
    while True:
        i += 1
        if i == 2:
            print("writing", flush=True)  # the first transaction committed
        urn = Urn("case", f"c-{round_no:02d}{i:06d}")
        case = attrs.evolve(make_case(urn.id), urn=urn, airline_urn=LAN.airline_urn)
        async with store.transaction() as tx:
            await tx.cases.add(LAN, case)
            if random.random() < 0.5:
                await anyio.sleep(random.random() * 0.003)  # widen the in-transaction window
            await tx.audit.append(
                LAN,
                AuditEntry(
                    Urn("audit", f"a-{urn.id}"),
                    LAN.airline_urn,
                    Actor(Urn("user", "system")),
                    "case.created",
                    urn,
                    "kill test",
                    clock.now(),
                ),
            )
            await tx.outbox.append(
                LAN,
                DomainEvent(
                    Urn("event", f"e-{urn.id}"),
                    LAN.airline_urn,
                    "case.created",
                    urn,
                    clock.now(),
                    key=str(urn),
                ),
            )


async def main(url: str, consumer_path: str, round_no: int) -> None:
    store = SqlStore.from_url(url, migrate=False)
    relay = relay_for(store, DedupConsumer(consumer_path))
    async with anyio.create_task_group() as tg:
        tg.start_soon(lambda: relay.run(idle_s=0.005))
        await write_forever(store, round_no)


if __name__ == "__main__":
    print("ready", flush=True)  # imports done: the test overlaps them with the previous round
    if sys.stdin.readline().strip() == "go":
        anyio.run(main, sys.argv[1], sys.argv[2], int(sys.argv[3]))
