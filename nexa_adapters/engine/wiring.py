"""Wire the sub-case sagas onto a bootstrapped :class:`~nexa_adapters.bootstrap.Nexa`."""

from __future__ import annotations

from typing import Any

from nexa_core.care import CareDeps, CareLinks, TransportVendor
from nexa_core.errors import ConfigurationError
from nexa_core.hotels import DirectContracts, HotelSearchService
from nexa_core.policy import Policy, PolicyService
from nexa_core.saga import DEFAULT_RETRY_POLICIES, RetryPolicies, SagaDeps, SubCaseSagas
from nexa_core.saga.partners import PartnerGate
from nexa_core.services import CaseOrchestrator, ReviewService

__all__ = [
    "build_orchestrator",
    "care_deps",
    "install_sagas",
    "saga_deps",
    "search_service",
    "transport_vendors",
]

#: the vendor of the tenant's own direct contracts
DIRECT = "direct"


def _merge_contracts(nexa: Any) -> DirectContracts | None:
    """The tenant's direct contracts take part in every search and can be booked, whatever
    partners are configured: they are the tenant's own inventory in the operational store.
    Registered once on ``nexa`` (search and booking share one instance)."""
    if nexa.store is None:
        return None
    contracts = nexa.extras.get("direct_contracts")
    if contracts is None:
        contracts = nexa.hotel_providers.get(DIRECT)
        if contracts is None:
            contracts = DirectContracts(nexa.store, nexa.clock)
        nexa.extras["direct_contracts"] = contracts
    if DIRECT not in nexa.booking:
        nexa.booking.register(DIRECT, contracts)
    return contracts  # type: ignore[no-any-return]


def search_service(nexa: Any) -> HotelSearchService:
    """The hotel search of the composition root: every configured hotel provider plus the
    direct contracts (asked first: ``first-success`` prefers the tenant's own rates),
    with the ``search_timeout_s`` time box and the ``search_strategy`` of the settings."""
    providers = [p for name, p in nexa.hotel_providers.items() if name != DIRECT]
    contracts = _merge_contracts(nexa)
    if contracts is not None:
        providers.insert(0, contracts)
    return HotelSearchService(
        providers,
        nexa.clock,
        timeout_s=nexa.settings.search_timeout_s,
        strategy=nexa.settings.search_strategy,
    )


def transport_vendors(nexa: Any) -> tuple[TransportVendor, ...]:
    """The configured transport providers as vendors, in configuration order.

    A provider may declare ``coverage`` (IATA codes it serves; none: everywhere) and
    ``max_passengers`` (its largest vehicle; default 24).
    """
    return tuple(
        TransportVendor(
            p,
            coverage=frozenset(c.upper() for c in getattr(p, "coverage", ()) or ()),
            max_passengers=int(getattr(p, "max_passengers", 24) or 24),
        )
        for p in nexa.transport.values()
    )


def _links(nexa: Any) -> CareLinks:
    settings = nexa.settings
    return CareLinks(
        passenger_url=getattr(settings, "passenger_url", None),
        card_reveal_url=getattr(settings, "card_reveal_url", None),
    )


def _renderer(nexa: Any) -> Any:
    renderer = nexa.extras.get("renderer")
    if renderer is None:
        from nexa_adapters.render import JinjaRenderer

        renderer = nexa.extras["renderer"] = JinjaRenderer()
    return renderer


def care_deps(nexa: Any) -> CareDeps:
    """The care services' ports from the composition root (operator commands, API).

    Partner calls go through the cluster-wide rate limits and breakers when a
    coordination store is configured.
    """
    gate = (
        PartnerGate(nexa.coordination, overrides=dict(nexa.extras.get("partner_rates", {})))
        if nexa.coordination is not None
        else None
    )
    return CareDeps(
        store=nexa.store,
        clock=nexa.clock,
        ids=nexa.ids,
        snapshots=nexa.snapshots,
        messages=tuple(p for _, p in sorted(nexa.notifications.items())),
        renderer=_renderer(nexa),
        payments=nexa.payments,
        transport=transport_vendors(nexa),
        gate=gate,
        links=_links(nexa),
    )


def saga_deps(nexa: Any) -> SagaDeps:
    """The ports the sagas need, taken from the composition root.

    ``nexa.extras["partner_rates"]`` may map ``"<partner>.<operation>"`` to the calls per
    second that partner publishes (defaults: ``nexa_core.saga.DEFAULT_PARTNER_RATES``).
    """
    if nexa.coordination is None:
        raise ConfigurationError("the sagas need a coordination store (NEXA_COORDINATION_URL)")
    _merge_contracts(nexa)
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
        renderer=_renderer(nexa),
        links=_links(nexa),
        vendors=transport_vendors(nexa),
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
    retry: RetryPolicies = DEFAULT_RETRY_POLICIES,
) -> tuple[CaseOrchestrator, ReviewService]:
    """Install the sagas on ``nexa.engine`` and build the case and review services.

    Call before ``await nexa.engine.launch()`` (DBOS registers workflows before launch).
    Airports come from the sandbox catalog (airportsdata) unless ``nexa.extras["airports"]``
    holds a ``get(iata)`` callable. New cases run under the tenant's stored policy versions
    (:class:`~nexa_core.policy.PolicyService`), or under ``policy`` when given (recorded
    as an ad-hoc version). Hotels are searched through :func:`search_service`.
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
        policies=PolicyService(nexa.store, clock=nexa.clock, ids=nexa.ids),
        search=search_service(nexa),
    )
    return orchestrator, ReviewService(orchestrator, nexa.coordination)
