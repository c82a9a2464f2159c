"""Activation, archive and rollback of policy versions, with their audit trail."""

from __future__ import annotations

from decimal import Decimal

import pytest

from nexa_adapters.memory import MemoryStore
from nexa_core.errors import IllegalTransitionError, NoPolicyMatchError, NotFoundError
from nexa_core.model import Actor, Money, PolicyState, Tier
from nexa_core.policy import (
    MealRules,
    Policy,
    PolicyContext,
    PolicyService,
    TierConstraints,
    policy_from_record,
)
from nexa_core.runtime import FixedClock, SequentialIds
from nexa_core.tenancy import TenantContext
from nexa_core.urn import Urn

LAN = TenantContext(Urn("airline", "LAN"), Actor(Urn("user", "ops-1"), role="OPS_SUPERVISOR"))
OTHER = TenantContext.system("urn:airline:JJ")


def business(name: str, stars: int = 4) -> Policy:
    return Policy(
        name,
        PolicyContext("LAN", "SCL"),
        frozenset({Tier.BUSINESS}),
        constraints={
            Tier.BUSINESS: TierConstraints(
                stars, 15.0, Money(Decimal("350"), "USD"), frozenset({"24H_RECEPTION"})
            )
        },
        meals=MealRules({Tier.BUSINESS: Decimal("40")}),
        regulations=frozenset({"ANAC400"}),
    )


@pytest.fixture
def service() -> PolicyService:
    return PolicyService(MemoryStore(), clock=FixedClock(), ids=SequentialIds())


@pytest.mark.anyio
async def test_stored_document_round_trips_to_the_same_policy(service: PolicyService) -> None:
    record = await service.create_draft(LAN, business("v1"))
    assert record.state is PolicyState.DRAFT and record.number == 1
    assert policy_from_record(record) == business("v1")


@pytest.mark.anyio
async def test_draft_has_no_effect_until_activated(service: PolicyService) -> None:
    record = await service.create_draft(LAN, business("v1"))
    with pytest.raises(NoPolicyMatchError):
        await service.resolve(LAN, tier=Tier.BUSINESS, airport="SCL")
    await service.activate(LAN, record.urn, reason="go live")
    resolved = await service.resolve(LAN, tier=Tier.BUSINESS, airport="SCL")
    assert resolved.version.urn == record.urn


@pytest.mark.anyio
async def test_activation_archives_the_previous_version_and_rollback_restores_it(
    service: PolicyService,
) -> None:
    v1 = await service.create_draft(LAN, business("v1", 4))
    await service.activate(LAN, v1.urn, reason="initial")
    v2 = await service.create_draft(LAN, business("v2", 5))
    assert v2.number == 2
    await service.activate(LAN, v2.urn, reason="raise stars")
    states = {v.policy.name: v.state for v in await service.versions(LAN)}
    assert states == {"v1": PolicyState.ARCHIVED, "v2": PolicyState.ACTIVE}
    assert (await service.resolve(LAN, tier=Tier.BUSINESS, airport="SCL")).policy.name == "v2"

    await service.rollback(LAN, v1.urn, reason="hotels refused 5-star rates")
    states = {v.policy.name: v.state for v in await service.versions(LAN)}
    assert states == {"v1": PolicyState.ACTIVE, "v2": PolicyState.ARCHIVED}
    assert (await service.resolve(LAN, tier=Tier.BUSINESS, airport="SCL")).policy.name == "v1"

    trail = await service.history(LAN, v1.urn)
    assert [e.action for e in trail] == [
        "policy.create",
        "policy.activate",
        "policy.archive",
        "policy.rollback",
    ]
    assert trail[1].before == {"state": "DRAFT"} and trail[1].after == {"state": "ACTIVE"}
    assert trail[2].reason.startswith(f"superseded by {v2.urn}")
    assert trail[3].reason == "hotels refused 5-star rates"
    assert all(e.actor == LAN.actor for e in trail)
    v2_trail = await service.history(LAN, v2.urn)
    assert [e.action for e in v2_trail][-1] == "policy.archive"


@pytest.mark.anyio
async def test_activation_leaves_other_contexts_alone(service: PolicyService) -> None:
    scl = await service.create_draft(LAN, business("scl"))
    other = Policy("global", PolicyContext("LAN"), frozenset(Tier))
    glob = await service.create_draft(LAN, other)
    await service.activate(LAN, glob.urn, reason="fallback")
    await service.activate(LAN, scl.urn, reason="airport")
    states = {v.policy.name: v.state for v in await service.versions(LAN)}
    assert states == {"scl": PolicyState.ACTIVE, "global": PolicyState.ACTIVE}
    explained = await service.explain(LAN, tier=Tier.BUSINESS, airport="SCL")
    assert explained.resolved is not None and explained.resolved.policy.name == "scl"


@pytest.mark.anyio
async def test_illegal_moves_are_refused_and_change_nothing(service: PolicyService) -> None:
    v1 = await service.create_draft(LAN, business("v1"))
    with pytest.raises(IllegalTransitionError):
        await service.rollback(LAN, v1.urn, reason="not archived")
    with pytest.raises(IllegalTransitionError):
        await service.archive(LAN, v1.urn, reason="a draft cannot be archived")
    await service.activate(LAN, v1.urn, reason="go")
    with pytest.raises(IllegalTransitionError):
        await service.activate(LAN, v1.urn, reason="twice")
    trail = await service.history(LAN, v1.urn)
    assert [e.action for e in trail] == ["policy.create", "policy.activate"]


@pytest.mark.anyio
async def test_archive_falls_back_to_less_specific_policies(service: PolicyService) -> None:
    scl = await service.create_draft(LAN, business("scl"))
    glob = await service.create_draft(LAN, Policy("global", PolicyContext(), frozenset(Tier)))
    for r in (scl, glob):
        await service.activate(LAN, r.urn, reason="go")
    await service.archive(LAN, scl.urn, reason="airport closed")
    resolved = await service.resolve(LAN, tier=Tier.BUSINESS, airport="SCL")
    assert resolved.policy.name == "global"


@pytest.mark.anyio
async def test_other_tenants_cannot_see_or_activate_a_policy(service: PolicyService) -> None:
    v1 = await service.create_draft(LAN, business("v1"))
    with pytest.raises(NotFoundError):
        await service.activate(OTHER, v1.urn, reason="steal")
    assert await service.versions(OTHER) == []
