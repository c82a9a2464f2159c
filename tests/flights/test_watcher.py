"""From prediction to case: a scripted flight-status feed crosses the threshold and exactly
one case opens, with the manifest the airline adapter supplied."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from nexa_adapters.airline import SandboxAirline, TeletypeAirline
from nexa_adapters.disruption import watch
from nexa_adapters.flightstatus import ScriptedStatus
from nexa_core.errors import InvalidInputError
from nexa_core.ports import FlightPrediction, ScheduledFlight
from nexa_core.runtime import FixedClock
from nexa_core.urn import Urn
from nexa_core.watch import (
    BaselinePredictor,
    DisruptionIntake,
    FlightWatcher,
    WatchThresholds,
    flight_identity,
)
from tests.service.flow import LAN, OPERATOR, _flow, _policy

pytestmark = pytest.mark.anyio
FEED = Path(__file__).parent / "data" / "feed_la500.json"
PNL = Path(__file__).parents[1] / "airline" / "data" / "LA500_SCL.pnl"
ADL = Path(__file__).parents[1] / "airline" / "data" / "LA500_SCL_1.adl"
NOW = datetime(2026, 5, 5, 12, 0, tzinfo=UTC)


class _Nexa:
    """The bits of a bootstrapped Nexa that :func:`watch` uses."""

    def __init__(self) -> None:
        self.clock = FixedClock(NOW)


class _Scripted:
    """A predictor whose cancel probability for LA500 follows a script, sweep by sweep."""

    name = "scripted"
    model_version = "scripted-1"

    def __init__(self, cancel: Sequence[float]) -> None:
        self.cancel = list(cancel)
        self.calls = 0

    async def predict(
        self, flights: Sequence[ScheduledFlight], context: Mapping[str, Any] | None = None
    ) -> Sequence[FlightPrediction]:
        p = self.cancel[min(self.calls, len(self.cancel) - 1)]
        self.calls += 1
        return [
            FlightPrediction(
                f.flight_urn, p if "LA500" in f.flight_urn.id else 0.01, 5.0, 0.1, "scripted-1"
            )
            for f in flights
        ]


def _airline() -> TeletypeAirline:
    airline = TeletypeAirline(clock=FixedClock(NOW), pnr_vendor="amadeus")
    airline.receive(LAN, PNL.read_text())
    airline.receive(LAN, ADL.read_text())
    return airline


async def test_a_confirmed_cancellation_in_the_feed_opens_exactly_one_case_with_the_airline_manifest() -> (
    None
):
    flow = _flow(_policy())
    airline = _airline()
    status = ScriptedStatus(FEED)
    results = await watch(
        _Nexa(),
        flow.orch,
        principal=OPERATOR,
        carriers=["LA"],
        status=status,
        predictor=BaselinePredictor(),
        airline=airline,
        sweeps=len(status.sweeps),
        interval_s=0,
    )
    assert status.exhausted
    assert [(str(r.event.flight_urn), r.event.reason, r.replayed) for r in results] == [
        ("urn:flight:LA500@20260505:vendor:aeroapi", "cancelled", False)
    ]
    cases = await flow.store.cases.find(OPERATOR_TENANT)
    assert len(cases) == 1
    case = cases[0]
    assert case.external_event_id == "urn:flight:LA500@20260505"
    assert str(case.flight.urn) == "urn:flight:LA500@20260505:vendor:aeroapi"
    assert case.flight.status == "CANCELLED"
    assert case.airport_urn == Urn("airport", "SCL")
    subs = await flow.store.sub_cases.find(OPERATOR_TENANT, case_urn=case.urn)
    pnrs = sorted(str(s.group.pnr_urn) for s in subs)
    expected = sorted(str(g.pnr_urn) for g in await airline.manifest(LAN, case.flight.urn))
    assert pnrs == expected  # the PNL with its ADL applied (SILVA/LUIS gone, PEREZ added)
    assert "urn:pnr:MNO678:vendor:amadeus" in pnrs
    assert sum(s.group.size for s in subs) == 8


async def test_a_prediction_over_the_threshold_opens_the_case_once_even_when_seen_again() -> None:
    flow = _flow(_policy())
    status = ScriptedStatus(sweeps=[_first_sweep()] * 4)
    predictor = _Scripted([0.2, 0.55, 0.71, 0.9])
    results = await watch(
        _Nexa(),
        flow.orch,
        principal=OPERATOR,
        carriers=["LA"],
        status=status,
        predictor=predictor,
        airline=SandboxAirline(passengers=12),
        thresholds=WatchThresholds(cancel_probability=0.7),
        sweeps=4,
        interval_s=0,
    )
    assert [(r.event.reason, r.event.cancel_probability) for r in results] == [
        ("predicted-cancellation", 0.71)
    ]
    assert len(await flow.store.cases.find(OPERATOR_TENANT)) == 1


async def test_a_restarted_watcher_emits_again_but_the_case_is_replayed_not_duplicated() -> None:
    flow = _flow(_policy())
    airline = SandboxAirline(passengers=10)
    opened = []
    for _ in range(2):  # two watcher processes, one after the other
        status = ScriptedStatus(FEED)
        watcher = FlightWatcher(status, BaselinePredictor(), clock=FixedClock(NOW))
        intake = DisruptionIntake(flow.orch, airline)
        for _sweep in status.sweeps:
            for event in await watcher.sweep(LAN, ["LA"]):
                opened.append(await intake.open_case(event, principal=OPERATOR))
    assert [o.replayed for o in opened] == [False, True]
    assert opened[0].case.urn == opened[1].case.urn
    assert len(await flow.store.cases.find(OPERATOR_TENANT)) == 1


async def test_a_failover_source_reporting_the_same_flight_does_not_open_a_second_case() -> None:
    flow = _flow(_policy())
    intake = DisruptionIntake(flow.orch, SandboxAirline(passengers=6))
    status = ScriptedStatus(FEED)
    watcher = FlightWatcher(status, BaselinePredictor(), clock=FixedClock(NOW))
    events = []
    for _ in status.sweeps:
        events += await watcher.sweep(LAN, ["LA"])
    first = await intake.open_case(events[0], principal=OPERATOR)
    import attrs

    other = attrs.evolve(
        events[0],
        flight=attrs.evolve(
            events[0].flight, flight_urn=Urn("flight", "LA500@20260505", "aviationstack")
        ),
    )
    second = await intake.open_case(other, principal=OPERATOR)
    assert flight_identity(other.flight_urn) == first.case.external_event_id
    assert second.replayed and second.case.urn == first.case.urn


async def test_a_flight_whose_manifest_is_missing_is_reported_and_retried_next_sweep() -> None:
    flow = _flow(_policy())
    airline = TeletypeAirline(clock=FixedClock(NOW))  # no PNL received yet
    status = ScriptedStatus(FEED)
    results = await watch(
        _Nexa(), flow.orch, principal=OPERATOR, carriers=["LA"], status=status,
        predictor=BaselinePredictor(), airline=airline, sweeps=4, interval_s=0,
    )  # fmt: skip
    assert [r.error is not None for r in results] == [True, True]  # sweeps 3 and 4
    assert "no PNL received" in (results[0].error or "")
    assert await flow.store.cases.find(OPERATOR_TENANT) == []


def test_thresholds_are_probabilities() -> None:
    with pytest.raises(InvalidInputError):
        WatchThresholds(cancel_probability=1.5)


def _first_sweep() -> dict[str, Any]:
    import json

    return json.loads(FEED.read_text())["sweeps"][0]  # type: ignore[no-any-return]


from nexa_core.tenancy import TenantContext  # noqa: E402

OPERATOR_TENANT = TenantContext.system(LAN)
