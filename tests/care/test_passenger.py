"""Passenger snapshot publishing and passenger-side calls scoped by a passenger principal."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from nexa_core.auth import Principal, PrincipalKind, Role
from nexa_core.care import (
    accept_offer,
    decline_offer,
    issue_meal_cards,
    plan_and_dispatch_transport,
    publish_passenger_snapshot,
    request_transport,
)
from nexa_core.errors import (
    ConflictError,
    IllegalTransitionError,
    NotFoundError,
    PermissionDeniedError,
)
from nexa_core.model import DispatchMode, SubCase, SubCaseStatus, Tier, TransferStatus, Vehicle
from nexa_core.tenancy import TenantContext
from nexa_core.urn import Urn
from tests.care.world import AIRLINE, TENANT, build_world


def passenger(case: str = "c-1", airline: Urn = AIRLINE) -> Principal:
    return Principal(
        PrincipalKind.PASSENGER,
        Urn("passenger", "p-1", "latam"),
        airline,
        case_urn=Urn("case", case),
        token_id="tok-1",
    )


@pytest.mark.anyio
async def test_snapshot_carries_hotel_qr_transport_voucher_and_reveal_link_never_a_pan() -> None:
    w = await build_world()
    await plan_and_dispatch_transport(w.deps, TENANT, w.case_urn, context=w.context)
    await issue_meal_cards(w.deps, TENANT, w.case_urn, context=w.context)
    sub = w.subs["G3"]
    doc = await publish_passenger_snapshot(w.deps, TENANT, sub.urn, context=w.context)
    stored = await w.snapshots.get(TENANT, sub.urn)
    assert stored == doc
    assert doc["status"] == "OFFER_READY" and doc["subCaseUrn"] == str(sub.urn)
    assert doc["hotel"]["name"] == "Hotel Andes Aeropuerto"
    assert doc["hotel"]["checkIn"].endswith("-04:00")  # airport time, explicit offset
    assert doc["voucher"]["qrPayload"] == "urn:reservation:r-3"
    assert doc["voucher"]["confirmationCode"] == "SBX-0003"
    (ride,) = doc["transport"]
    assert ride["vehicle"] == "PRIVATE_CAR" and ride["status"] == "DISPATCHED"
    assert ride["pickupAt"] == "2026-05-06T09:15:00-04:00"  # departure 10:00 local − 45 min
    assert doc["card"]["revealLink"].startswith("https://wallet.example/reveal/urn:issued-card:")
    text = json.dumps(doc)
    assert "pan" not in {k.lower() for k in doc["card"]} and "cvv" not in text.lower()
    assert "@example.com" not in text  # no contact data on the read side


@pytest.mark.anyio
async def test_passenger_accepts_the_offer_of_their_own_case() -> None:
    w = await build_world()
    sub = w.subs["G1"]
    accepted = await accept_offer(w.deps, passenger(), sub.urn, context=w.context)
    assert accepted.status is SubCaseStatus.RESOLVED
    assert (await w.snapshots.get(TENANT, sub.urn))["status"] == "RESOLVED"
    again = await accept_offer(w.deps, passenger(), sub.urn, context=w.context)
    assert again.status is SubCaseStatus.RESOLVED  # idempotent


@pytest.mark.anyio
async def test_a_token_for_another_case_or_tenant_sees_nothing() -> None:
    w = await build_world()
    sub = w.subs["G1"]
    with pytest.raises(NotFoundError):
        await accept_offer(w.deps, passenger(case="c-2"), sub.urn, context=w.context)
    with pytest.raises(NotFoundError):
        await accept_offer(
            w.deps, passenger(airline=Urn("airline", "AZU")), sub.urn, context=w.context
        )
    assert (await w.store.sub_cases.get(TENANT, sub.urn)).status is SubCaseStatus.OFFER_READY


@pytest.mark.anyio
async def test_operator_principals_cannot_use_passenger_calls() -> None:
    w = await build_world()
    operator = Principal(
        PrincipalKind.OPERATOR,
        Urn("user", "u-1"),
        AIRLINE,
        roles=frozenset({Role.ADMIN}),
        case_urn=w.case_urn,
    )
    with pytest.raises(PermissionDeniedError):
        await accept_offer(w.deps, operator, w.subs["G1"].urn, context=w.context)


@pytest.mark.anyio
async def test_decline_hands_the_sub_case_to_the_saga_compensation() -> None:
    w = await build_world()
    calls: list[tuple[TenantContext, SubCase]] = []

    async def compensate(tenant: TenantContext, sub_case: SubCase) -> None:
        calls.append((tenant, sub_case))

    out = await plan_and_dispatch_transport(w.deps, TENANT, w.case_urn, context=w.context)
    (ride,) = out.transfers  # G3's private car
    declined = await decline_offer(
        w.deps, passenger(), w.subs["G3"].urn, compensate=compensate, context=w.context
    )
    assert declined.status is SubCaseStatus.COMPENSATING
    ((tenant, handed),) = calls
    assert handed.urn == w.subs["G3"].urn and handed.status is SubCaseStatus.COMPENSATING
    assert tenant.airline_urn == AIRLINE and tenant.actor.role == "PASSENGER"
    assert (await w.store.transfers.get(TENANT, ride.urn)).status is TransferStatus.CANCELLED
    with pytest.raises(IllegalTransitionError):  # a resolved offer cannot be declined
        await decline_offer(
            w.deps, passenger(), w.subs["G2"].urn, compensate=compensate, context=w.context
        )


@pytest.mark.anyio
async def test_passenger_requests_transport_for_an_on_demand_tier() -> None:
    w = await build_world()
    rides = await request_transport(w.deps, passenger(), w.subs["G1"].urn, context=w.context)
    (ride,) = rides
    assert ride.vehicle is Vehicle.SHUTTLE and ride.status is TransferStatus.DISPATCHED
    assert ride.sub_case_urns == (w.subs["G1"].urn,)
    assert ride.pickup_at == w.subs["G1"].next_departure - timedelta(minutes=45)
    again = await request_transport(w.deps, passenger(), w.subs["G1"].urn, context=w.context)
    assert again == rides and len(w.transport.dispatched) == 1
    snap = await w.snapshots.get(TENANT, w.subs["G1"].urn)
    assert [t["transferUrn"] for t in snap["transport"]] == [str(ride.urn)]


@pytest.mark.anyio
async def test_manual_tiers_cannot_request_transport_themselves() -> None:
    w = await build_world(transport_rules={"dispatch": {Tier.ECONOMY: DispatchMode.MANUAL}})
    with pytest.raises(ConflictError):
        await request_transport(w.deps, passenger(), w.subs["G1"].urn, context=w.context)


@pytest.mark.anyio
async def test_transport_cannot_be_requested_before_a_hotel_is_booked() -> None:
    w = await build_world()
    with pytest.raises(ConflictError):  # G4 failed: no hotel, no ride
        await request_transport(w.deps, passenger(), w.subs["G4"].urn, context=w.context)
    assert w.transport.dispatched == {}
