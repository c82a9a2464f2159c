"""Before the disruption, wired: the library calls behind ``nexa predictor watch`` and
``nexa policy synthesize``.

* :func:`component` builds a named adapter of one registration hook with the options
  bootstrap gives every factory (settings, clock, ids, coordination, store, …);
  :func:`airline_provider`, :func:`flight_status`, :func:`flight_predictor` and
  :func:`policy_synthesizer` pick the name from settings by default.
* :func:`watch` runs sweeps of a :class:`~nexa_core.watch.FlightWatcher` and opens the case
  of every :class:`~nexa_core.watch.FlightDisrupted` through
  :class:`~nexa_core.watch.DisruptionIntake`::

      nexa = bootstrap()
      orchestrator, _ = build_orchestrator(nexa, policy=policy)
      results = await watch(nexa, orchestrator, principal=operator, carriers=["LA"])
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import anyio
import attrs

from nexa_adapters.plugins import collect
from nexa_core.auth import Principal
from nexa_core.errors import ConfigurationError
from nexa_core.services import CaseOrchestrator
from nexa_core.watch import DisruptionIntake, FlightDisrupted, FlightWatcher, WatchThresholds

__all__ = [
    "WatchResult",
    "airline_provider",
    "component",
    "flight_predictor",
    "flight_status",
    "policy_synthesizer",
    "watch",
]


def component(nexa: Any, hook: str, name: str, **options: Any) -> Any:
    """The adapter ``name`` of registration hook ``hook`` (ConfigurationError if unknown)."""
    factories = collect(nexa.plugins, hook)
    if name not in factories:
        raise ConfigurationError(f"{hook}: no adapter named {name!r} (have {sorted(factories)})")
    base: dict[str, Any] = {
        "settings": nexa.settings,
        "clock": nexa.clock,
        "ids": nexa.ids,
        "seed": nexa.settings.seed,
    }
    if nexa.coordination is not None:
        base["coordination"] = nexa.coordination
    if nexa.store is not None:
        base["store"] = nexa.store
        idem = getattr(nexa.store, "idempotency", None)
        if idem is not None:
            base["idempotency"] = idem
    base.update({k: v for k, v in options.items() if v is not None})
    return factories[name](**base)


def airline_provider(nexa: Any, name: str | None = None, **options: Any) -> Any:
    """The AirlineProvider (default: ``settings.airline_provider``)."""
    return component(
        nexa, "nexa_register_airline_providers", name or nexa.settings.airline_provider, **options
    )


def flight_status(nexa: Any, name: str | None = None, **options: Any) -> Any:
    """The FlightStatusProvider (default: ``settings.flight_status_provider``)."""
    return component(
        nexa,
        "nexa_register_flight_status_providers",
        name or nexa.settings.flight_status_provider,
        **options,
    )


def flight_predictor(nexa: Any, name: str | None = None, **options: Any) -> Any:
    """The FlightPredictor (default: ``settings.predictor``)."""
    return component(
        nexa, "nexa_register_flight_predictors", name or nexa.settings.predictor, **options
    )


def policy_synthesizer(nexa: Any, name: str | None = None, **options: Any) -> Any:
    """The PolicySynthesizer (default: ``settings.policy_synthesizer``, i.e. ``rules``)."""
    return component(
        nexa,
        "nexa_register_policy_synthesizers",
        name or nexa.settings.policy_synthesizer,
        **options,
    )


@attrs.frozen
class WatchResult:
    """One disruption and the case it opened (``replayed`` when it was already open)."""

    event: FlightDisrupted
    case_urn: str | None
    sub_cases: int
    replayed: bool
    error: str | None = None


async def watch(
    nexa: Any,
    orchestrator: CaseOrchestrator,
    *,
    principal: Principal,
    carriers: Sequence[str],
    status: Any = None,
    predictor: Any = None,
    airline: Any = None,
    thresholds: WatchThresholds | None = None,
    sweeps: int = 1,
    interval_s: float = 300.0,
    sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
    on_result: Callable[[WatchResult], None] | None = None,
) -> list[WatchResult]:
    """Run ``sweeps`` watcher passes ``interval_s`` apart; open a case per disruption.

    A disruption whose manifest cannot be had (no PNL yet, a malformed list, documents
    offered) is reported with ``error`` and retried on the next sweep; the others go on.
    """
    from nexa_core.errors import NexaError

    watcher = FlightWatcher(
        status or flight_status(nexa),
        predictor or flight_predictor(nexa),
        clock=nexa.clock,
        thresholds=thresholds,
    )
    intake = DisruptionIntake(orchestrator, airline or airline_provider(nexa))
    results: list[WatchResult] = []
    for i in range(sweeps):
        if i:
            await sleep(interval_s)
        for event in await watcher.sweep(principal.airline_urn, carriers):
            try:
                opened = await intake.open_case(event, principal=principal)
                result = WatchResult(
                    event, str(opened.case.urn), len(opened.sub_cases), opened.replayed
                )
            except NexaError as exc:
                watcher.forget(event.flight_urn)  # try this flight again next sweep
                result = WatchResult(event, None, 0, False, str(exc))
            results.append(result)
            if on_result is not None:
                on_result(result)
    return results
