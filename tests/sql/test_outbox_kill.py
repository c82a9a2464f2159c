"""Kill test: a writer process is SIGKILLed at random points 20 times; after each restart
the relay delivers every committed record exactly once (by key) and no uncommitted one.

The writer commits case + audit + outbox per transaction while its own relay hands
records to a consumer that applies each key once (so the relay is killed too, sometimes
between handling a record and saving its position: the record is handed over again and
deduplicated). After each kill a fresh relay in this process catches up; then the state,
audit, outbox, consumer and saved position must agree exactly.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import anyio
import pytest
import sqlalchemy as sa

from nexa_adapters.sql import SqlStore
from tests.sql.outbox_worker import CONSUMER, DedupConsumer, relay_for

KILLS = 20
ROOT = Path(__file__).resolve().parents[2]


def _spawn(url: str, consumer: Path, round_no: int) -> tuple[subprocess.Popen[str], Path]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    errors = consumer.with_suffix(f".{round_no}.err")
    with errors.open("w") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "tests.sql.outbox_worker", url, str(consumer), str(round_no)],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
        )
    return proc, errors


def _start(proc: subprocess.Popen[str], errors: Path) -> None:
    assert proc.stdin is not None and proc.stdout is not None
    line = proc.stdout.readline()
    assert line.strip() == "ready", errors.read_text()
    proc.stdin.write("go\n")
    proc.stdin.flush()
    line = proc.stdout.readline()
    assert line.strip() == "writing", errors.read_text()


def _check(url: str, consumer: Path) -> tuple[int, int]:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        committed = set(conn.execute(sa.text("SELECT urn FROM nexa_cases")).scalars())
        outbox = dict(conn.execute(sa.text("SELECT key, position FROM nexa_outbox")).all())
        audited = set(conn.execute(sa.text("SELECT entity_urn FROM nexa_audit")).scalars())
        saved = conn.execute(
            sa.text("SELECT position FROM nexa_outbox_positions WHERE consumer = :c"),
            {"c": CONSUMER},
        ).scalar()
    engine.dispose()
    db = sqlite3.connect(consumer)
    applied = dict(db.execute("SELECT key, position FROM applied").fetchall())
    deliveries = db.execute("SELECT count(*) FROM deliveries").fetchone()[0]
    db.close()
    # state, audit and outbox committed together or not at all
    assert set(outbox) == committed == audited
    # every committed record applied once, with its own position; nothing uncommitted
    assert applied == outbox
    assert saved == max(outbox.values(), default=None)
    return len(committed), deliveries


def _kill_rounds(url: str, tmp_path: Path) -> None:
    consumer = tmp_path / "consumer.db"
    rng = random.Random(int(os.environ.get("NEXA_KILL_SEED", time.time_ns())))
    total = 0
    upcoming = _spawn(url, consumer, 1)
    for round_no in range(1, KILLS + 1):
        proc, errors = upcoming
        _start(proc, errors)
        if round_no < KILLS:  # the next writer imports while this one runs
            upcoming = _spawn(url, consumer, round_no + 1)
        time.sleep(rng.uniform(0.0, 0.3))
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.close()
        proc.stdout.close()
        assert proc.returncode == -signal.SIGKILL

        async def restart() -> None:
            store = SqlStore.from_url(url, migrate=False)
            await relay_for(store, DedupConsumer(str(consumer))).run_once()
            await store.close()

        anyio.run(restart)
        committed, deliveries = _check(url, consumer)
        assert committed >= total
        total = committed
    print(f"kill test: {total} committed records, {deliveries} deliveries, {KILLS} kills")
    assert total >= KILLS


@pytest.mark.slow
def test_sqlite_relay_delivers_each_committed_record_once_across_20_kills(
    sqlite_url: str, tmp_path: Path
) -> None:
    _kill_rounds(sqlite_url, tmp_path)


@pytest.mark.slow
@pytest.mark.postgres
def test_postgres_relay_delivers_each_committed_record_once_across_20_kills(
    pg_engine: sa.Engine, pg_database_url: str, tmp_path: Path
) -> None:
    _kill_rounds(pg_database_url, tmp_path)
