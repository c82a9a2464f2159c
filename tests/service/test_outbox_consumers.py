"""The built-in outbox consumers over the real case flow: the passenger snapshot follows the
sub-case, the metrics counters count the events."""

from __future__ import annotations

from typing import Any

import pytest

from nexa_adapters.bootstrap import bootstrap
from nexa_adapters.engine import build_orchestrator
from nexa_adapters.engine.wiring import care_deps
from nexa_adapters.observability.metrics import InProcessMetrics
from nexa_adapters.outbox import consumer_names, outbox_consumers, relay_runner
from nexa_adapters.settings import Settings
from nexa_core.errors import ConfigurationError
from nexa_core.model import SubCaseStatus
from nexa_core.relay import EventCounters, RelayRunner, SnapshotRefresh
from nexa_core.tracing import install_metrics
from tests.service.flow import OPERATOR, TENANT, _manifest, _policy

pytestmark = pytest.mark.anyio


def _nexa(**settings: Any) -> Any:
    return bootstrap(
        Settings.load(
            env={},
            store_url="memory://",
            coordination_url="inprocess://",
            engine_url="inprocess://",
            **settings,
        ),
        provider_options={"engine_time_scale": 0.0},
    )


async def test_the_passenger_snapshot_follows_the_sub_case_through_the_relay() -> None:
    nexa = _nexa()
    orch, _ = build_orchestrator(nexa, policy=_policy())
    await nexa.engine.launch()
    opened = await orch.open_case(_manifest(groups=1), principal=OPERATOR)
    outcome = await orch.run_allocation(opened.case.urn, principal=OPERATOR)
    await orch.wait(
        await orch.book_sub_cases(opened.case.urn, outcome.wave.urn, principal=OPERATOR),
        principal=OPERATOR,
    )
    refresh = SnapshotRefresh(care_deps(nexa))
    runner = RelayRunner(nexa.store.outbox, [refresh])
    await runner.run_once()
    [sub] = await nexa.store.sub_cases.find(TENANT, case_urn=opened.case.urn)
    doc = await nexa.snapshots.get(TENANT, sub.urn)
    assert doc["status"] == "OFFER_READY" and doc["voucher"]  # the saga's document
    # an operator rolls the offer back outside the passenger flow: only the relay
    # rewrites the page
    await orch.decline(sub.urn, principal=OPERATOR)
    stale = await nexa.snapshots.get(TENANT, sub.urn)
    assert stale["status"] == "OFFER_READY"
    assert (await runner.run_once())["snapshots"] > 0
    after = await nexa.snapshots.get(TENANT, sub.urn)
    current = await nexa.store.sub_cases.get(TENANT, sub.urn)
    assert current.status is SubCaseStatus.PENDING and after["status"] == "PENDING"
    assert after["voucher"] is None  # the cancelled reservation left the page
    again = refresh.refreshed
    await RelayRunner(nexa.store.outbox, [refresh]).run_once()  # positions are kept
    assert refresh.refreshed == again
    await nexa.aclose()


async def test_event_counters_count_each_event_type_per_airline() -> None:
    nexa = _nexa()
    orch, _ = build_orchestrator(nexa, policy=_policy())
    metrics = InProcessMetrics()
    previous = install_metrics(metrics)
    try:
        await orch.open_case(_manifest(groups=2), principal=OPERATOR)
        await RelayRunner(nexa.store.outbox, [EventCounters()]).run_once()
    finally:
        install_metrics(previous)
    assert metrics.value("nexa_outbox_events_total", type="case.created", airline="LAN") == 1
    assert metrics.value("nexa_outbox_events_total", type="subcase.created", airline="LAN") == 2
    await nexa.aclose()


async def test_the_worker_relays_to_the_registered_consumers_the_settings_select() -> None:
    nexa = _nexa()
    assert consumer_names(nexa) == ["metrics", "snapshots"]
    assert [c.name for c in relay_runner(nexa, owner="w").consumers] == ["metrics", "snapshots"]
    only = _nexa(outbox_consumers=("metrics",))
    assert [c.name for c in outbox_consumers(only)] == ["metrics"]
    with pytest.raises(ConfigurationError, match="no consumer named webhooks"):
        consumer_names(_nexa(outbox_consumers=("webhooks",)))
    for n in (nexa, only):
        await n.aclose()
