"""The passenger document and the passenger actions (scoped tokens, read side only)."""

from __future__ import annotations

import json
from typing import Any

import attrs
import pytest

from nexa_core.auth import Principal, PrincipalKind, Role
from nexa_core.care import (
    accept_offer,
    build_document,
    build_voucher,
    card_reveal,
    decline_offer,
    issue_meal_card,
    passenger_document,
    publish_document,
    refresh_document,
    request_transport,
    transport_status,
    voucher_page,
)
from nexa_core.errors import (
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
)
from nexa_core.model import (
    DispatchMode,
    ReservationStatus,
    SubCase,
    SubCaseStatus,
    Tier,
    TransferStatus,
)
from nexa_core.pii import find_card_numbers
from nexa_core.tenancy import TenantContext
from nexa_core.urn import Urn
from tests.care.world import AIRLINE, TENANT, World, build_world


def passenger(case: str = "c-1", airline: Urn = AIRLINE) -> Principal:
    return Principal(
        PrincipalKind.PASSENGER,
        Urn("passenger", "p-1", "latam"),
        airline,
        case_urn=Urn("case", case),
        token_id="tok-1",
    )


async def _publish(w: World, gid: str) -> None:
    sub = w.subs[gid]
    card = await issue_meal_card(w.deps, TENANT, sub, w.care(gid))
    voucher = build_voucher(w.reservations[gid], sub, card=card)
    png = w.deps.renderer.qr_png(voucher.qr_payload)  # type: ignore[union-attr]
    await publish_document(
        w.deps,
        TENANT,
        build_document(
            sub,
            published_at=w.clock.now(),
            voucher=voucher,
            card=card,
            card_reveal_link="https://wallet.example/reveal/card",
            transport_mode=w.care(gid).transport,
            qr_png=png,
        ),
    )


@pytest.mark.anyio
async def test_the_page_reads_hotel_qr_rides_voucher_and_card_from_the_snapshot_only() -> None:
    w = await build_world()
    await _publish(w, "G1")
    doc = await passenger_document(w.deps, w.subs["G1"].urn, principal=passenger())
    assert doc.voucher is not None and doc.voucher.hotel.address.startswith("Av. Américo")
    assert doc.qr_payload == str(w.reservations["G1"].urn)
    assert doc.qr_png is not None and doc.qr_png.startswith("data:image/png;base64,")
    assert doc.card is not None and doc.card.reveal_link == "https://wallet.example/reveal/card"
    assert doc.transport_mode is DispatchMode.ON_DEMAND
    raw = await w.snapshots.get(TENANT, w.subs["G1"].urn)
    assert not find_card_numbers(json.dumps(raw))  # never a PAN
    assert await card_reveal(w.deps, w.subs["G1"].urn, principal=passenger()) == (
        "https://wallet.example/reveal/card"
    )
    page = await voucher_page(w.deps, w.subs["G1"].urn, principal=passenger())
    assert page.html is not None and "Endereço" in page.html  # the lead's Portuguese
    english = await voucher_page(w.deps, w.subs["G1"].urn, principal=passenger(), language="en")
    assert english.html is not None and "Address" in english.html
    # the page never reads the operational store: wipe a record, the page still answers
    w.store._state.tables["reservations"].clear()  # type: ignore[attr-defined]
    assert (await passenger_document(w.deps, w.subs["G1"].urn, principal=passenger())).voucher


@pytest.mark.anyio
async def test_a_token_for_another_case_or_tenant_sees_nothing() -> None:
    w = await build_world()
    await _publish(w, "G1")
    with pytest.raises(NotFoundError):
        await passenger_document(w.deps, w.subs["G1"].urn, principal=passenger(case="c-2"))
    with pytest.raises(NotFoundError):
        await passenger_document(
            w.deps, w.subs["G1"].urn, principal=passenger(airline=Urn("airline", "TAM"))
        )
    with pytest.raises(NotFoundError):
        await accept_offer(w.deps, w.subs["G1"].urn, principal=passenger(case="c-2"))


@pytest.mark.anyio
async def test_operator_principals_cannot_use_passenger_calls() -> None:
    w = await build_world()
    await _publish(w, "G1")
    operator = Principal(
        PrincipalKind.OPERATOR, Urn("user", "u-1"), AIRLINE, frozenset({Role.ADMIN})
    )
    with pytest.raises(PermissionDeniedError):
        await passenger_document(w.deps, w.subs["G1"].urn, principal=operator)


@pytest.mark.anyio
async def test_the_passenger_accepts_once_and_the_page_follows() -> None:
    w = await build_world()
    await _publish(w, "G1")
    sub = await accept_offer(w.deps, w.subs["G1"].urn, principal=passenger())
    assert sub.status is SubCaseStatus.RESOLVED
    again = await accept_offer(w.deps, w.subs["G1"].urn, principal=passenger())
    assert again.version == sub.version  # a repeat changes nothing
    doc = await passenger_document(w.deps, sub.urn, principal=passenger())
    assert doc.status == "RESOLVED" and doc.voucher is not None


@pytest.mark.anyio
async def test_decline_hands_the_sub_case_to_the_saga_compensation() -> None:
    w = await build_world()
    await _publish(w, "G1")
    handed: list[SubCase] = []

    async def compensate(tenant: TenantContext, sub: SubCase) -> Any:
        handed.append(sub)
        current = await w.store.sub_cases.get(tenant, sub.urn)
        return await w.store.sub_cases.update(
            tenant, current.transition(SubCaseStatus.COMPENSATING)
        )

    sub = await decline_offer(
        w.deps, w.subs["G1"].urn, principal=passenger(), compensate=compensate
    )
    assert [h.urn for h in handed] == [w.subs["G1"].urn]
    assert sub.status is SubCaseStatus.COMPENSATING
    with pytest.raises(ConflictError):  # nothing left to decline
        await decline_offer(w.deps, sub.urn, principal=passenger(), compensate=compensate)


@pytest.mark.anyio
async def test_an_on_demand_passenger_requests_transport_and_is_told() -> None:
    w = await build_world()
    await _publish(w, "G1")
    out = await request_transport(
        w.deps, w.subs["G1"].urn, principal=passenger(), instructions=w.care("G1")
    )
    assert {t.status for t in out.transfers} == {TransferStatus.DISPATCHED}
    assert {t.mode for t in out.transfers} == {DispatchMode.ON_DEMAND}
    told = [m for m in w.messages.sent.values() if "transporte" in m.subject.lower()]
    assert told  # transport.dispatched, in Portuguese
    rides = await transport_status(w.deps, w.subs["G1"].urn, principal=passenger())
    assert {r.status for r in rides} == {TransferStatus.DISPATCHED} and len(rides) == 2
    again = await request_transport(
        w.deps, w.subs["G1"].urn, principal=passenger(), instructions=w.care("G1")
    )
    assert {t.urn for t in again.transfers} == {t.urn for t in out.transfers}
    assert len(w.transport.dispatched) == 2


@pytest.mark.anyio
async def test_manual_tiers_and_unbooked_groups_cannot_request_transport() -> None:
    w = await build_world()
    manual = attrs.evolve(w.care("G1"), transport=DispatchMode.MANUAL)
    with pytest.raises(ConflictError):
        await request_transport(
            w.deps, w.subs["G1"].urn, principal=passenger(), instructions=manual
        )
    with pytest.raises(ConflictError):  # G4 is still being booked
        await request_transport(
            w.deps, w.subs["G4"].urn, principal=passenger(), instructions=w.care("G4")
        )


@pytest.mark.anyio
async def test_a_rewrite_rebuilds_the_page_from_the_records_and_drops_a_cancelled_voucher() -> None:
    w = await build_world()
    assert await refresh_document(w.deps, TENANT, w.subs["G4"].urn) is not None  # confirmed
    w.reservations["G4"] = await w.store.reservations.update(
        TENANT,
        attrs.evolve(
            await w.store.reservations.get(TENANT, w.reservations["G4"].urn),
            status=ReservationStatus.CANCELLED,
        ),
    )
    doc = await refresh_document(w.deps, TENANT, w.subs["G4"].urn)
    assert doc is not None and doc.voucher is None  # the page shows the booking is gone
    assert w.subs["G3"].group.tier is Tier.BUSINESS  # (the world's business traveller)
