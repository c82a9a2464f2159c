"""Wire the sub-case sagas onto a bootstrapped :class:`~nexa_adapters.bootstrap.Nexa`."""

from __future__ import annotations

from typing import Any

from nexa_core.errors import ConfigurationError
from nexa_core.saga import DEFAULT_RETRY_POLICIES, RetryPolicies, SagaDeps, SubCaseSagas

__all__ = ["install_sagas", "saga_deps"]


def saga_deps(nexa: Any) -> SagaDeps:
    """The ports the sagas need, taken from the composition root."""
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
    )


def install_sagas(nexa: Any, retry: RetryPolicies = DEFAULT_RETRY_POLICIES) -> SubCaseSagas:
    """Register the booking and rollback programs on ``nexa.engine`` (before launch)."""
    if nexa.engine is None:
        raise ConfigurationError("no workflow engine configured (NEXA_ENGINE_URL)")
    sagas = SubCaseSagas(saga_deps(nexa), retry)
    for program in sagas.programs():
        nexa.engine.register(program)
    return sagas
