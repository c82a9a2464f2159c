"""Wire the sub-case sagas onto a bootstrapped :class:`~nexa_adapters.bootstrap.Nexa`."""

from __future__ import annotations

from typing import Any

from nexa_core.errors import ConfigurationError
from nexa_core.policy import Policy
from nexa_core.saga import DEFAULT_RETRY_POLICIES, RetryPolicies, SagaDeps, SubCaseSagas
from nexa_core.saga.partners import PartnerGate
from nexa_core.services import CaseOrchestrator, ReviewService

__all__ = ["build_orchestrator", "install_sagas", "saga_deps"]


def saga_deps(nexa: Any) -> SagaDeps:
    """The ports the sagas need, taken from the composition root.

    ``nexa.extras["partner_rates"]`` may map ``"<partner>.<operation>"`` to the calls per
    second that partner publishes (defaults: ``nexa_core.saga.DEFAULT_PARTNER_RATES``).
    """
    if nexa.coordination is None:
        raise ConfigurationError("the sagas need a coordination store (NEXA_COORDINATION_URL)")
    return SagaDeps(
        store=nexa.store,
        coordination=nexa.coordination,
        booking=nexa.booking,
        payments=nexa.payments,
        transport=nexa.transport,
        notifications=nexa.notifications,
        clock=nexa.clock,
        ids=nexa.ids,
        snapshots=nexa.snapshots,
        gate=PartnerGate(nexa.coordination, overrides=dict(nexa.extras.get("partner_rates", {}))),
    )


def install_sagas(nexa: Any, retry: RetryPolicies = DEFAULT_RETRY_POLICIES) -> SubCaseSagas:
    """Register the booking and rollback programs on ``nexa.engine`` (before launch)."""
    if nexa.engine is None:
        raise ConfigurationError("no workflow engine configured (NEXA_ENGINE_URL)")
    sagas = SubCaseSagas(saga_deps(nexa), retry)
    for program in sagas.programs():
        nexa.engine.register(program)
    return sagas


def build_orchestrator(
    nexa: Any,
    *,
    policy: Policy | None = None,
    policy_resolver: Any = None,
    retry: RetryPolicies = DEFAULT_RETRY_POLICIES,
) -> tuple[CaseOrchestrator, ReviewService]:
    """Install the sagas on ``nexa.engine`` and build the case and review services.

    Call before ``await nexa.engine.launch()`` (DBOS registers workflows before launch).
    Airports come from the sandbox catalog (airportsdata) unless ``nexa.extras["airports"]``
    holds a ``get(iata)`` callable.
    """
    from nexa_adapters.sandbox.inventory import airport

    install_sagas(nexa, retry)
    orchestrator = CaseOrchestrator(
        store=nexa.store,
        engine=nexa.engine,
        clock=nexa.clock,
        ids=nexa.ids,
        airports=nexa.extras.get("airports", airport),
        hotel_providers=nexa.hotel_providers,
        coordination=nexa.coordination,
        policy=policy,
        policy_resolver=policy_resolver,
        search_timeout_s=nexa.settings.search_timeout_s,
    )
    return orchestrator, ReviewService(orchestrator, nexa.coordination)
