from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from nexa_adapters.memory import MemoryStore
from nexa_core.errors import ProviderRejectedError
from nexa_core.hotels import DirectContracts
from nexa_core.model import Contact, Contract, ContractRate, PaymentMode, RoomType, Tier
from nexa_core.ports import BookingRequest
from nexa_core.runtime import FixedClock
from nexa_core.tenancy import TenantContext
from nexa_core.urn import Urn

from .test_search import AIRLINE, REQ, SCL

TENANT = TenantContext(AIRLINE)


def _contract(cid: str = "ct-1", **kw: object) -> Contract:
    base: dict[str, object] = {
        "urn": Urn("contract", cid),
        "airline_urn": AIRLINE,
        "hotel_name": "Andes Contract",
        "address": "Av 1",
        "latitude": -33.40,
        "longitude": -70.78,
        "stars": 4,
        "currency": "USD",
        "rates": (ContractRate(date(2026, 5, 1), date(2026, 5, 31), Decimal("70"), 3, "DBL"),),
        "airports": frozenset({Urn("airport", "SCL")}),
        "market_rate": Decimal("110"),
    }
    base.update(kw)
    return Contract(**base)  # type: ignore[arg-type]


async def _setup(*contracts: Contract) -> tuple[MemoryStore, DirectContracts]:
    clock = FixedClock()
    store = MemoryStore(clock=clock.now)
    for c in contracts:
        await store.contracts.add(TENANT, c)
    return store, DirectContracts(store, clock)


def _booking(offer, rooms: int, key: str) -> BookingRequest:  # type: ignore[no-untyped-def]
    return BookingRequest(
        airline_urn=AIRLINE,
        reservation_urn=Urn("reservation", f"r-{key}"),
        offer=offer,
        rooms=(RoomType.DBL,) * rooms,
        lead_name="Lead",
        lead_contact=Contact("lead@example.com"),
        guests=rooms * 2,
        payment=PaymentMode.GUARANTEE,
        idempotency_key=key,
    )


@pytest.mark.anyio
async def test_contracts_are_offered_by_airport_scope_and_date_range() -> None:
    elsewhere = _contract("ct-2", airports=frozenset({Urn("airport", "LIM")}))
    expired = _contract(
        "ct-3", rates=(ContractRate(date(2026, 1, 1), date(2026, 2, 1), Decimal("60"), 5),)
    )
    crew = _contract("ct-4", tiers=frozenset({Tier.CREW}))
    _, provider = await _setup(_contract(), elsewhere, expired, crew)
    offers = {o.hotel_urn.id: o for o in await provider.search(REQ)}
    assert set(offers) == {"ct-1", "ct-4"}
    main = offers["ct-1"]
    assert main.vendor == "direct" and main.total_rooms == 3
    assert main.rooms[0].nightly_rate == Decimal("70") and main.market_rate == Decimal("110")
    assert main.fetched_at is not None
    assert "tier:CREW" in offers["ct-4"].amenities


@pytest.mark.anyio
async def test_booking_decrements_and_cancellation_restores_the_allotment() -> None:
    store, provider = await _setup(_contract())
    (offer,) = await provider.search(REQ)
    conf = await provider.book(_booking(offer, 2, "k1"))
    assert conf.total.amount == Decimal("140")
    assert (await store.contracts.get(TENANT, Urn("contract", "ct-1"))).rooms_booked == 2
    (offer,) = await provider.search(REQ)
    assert offer.total_rooms == 1
    replay = await provider.book(_booking(offer, 2, "k1"))
    assert replay.replayed and replay.confirmation_urn == conf.confirmation_urn
    assert (await store.contracts.get(TENANT, Urn("contract", "ct-1"))).rooms_booked == 2
    with pytest.raises(ProviderRejectedError):
        await provider.book(_booking(offer, 2, "k2"))
    await provider.cancel(AIRLINE, conf.confirmation_urn, idempotency_key="c1")
    await provider.cancel(AIRLINE, conf.confirmation_urn, idempotency_key="c1")
    assert (await store.contracts.get(TENANT, Urn("contract", "ct-1"))).rooms_booked == 0
    assert str(await provider.status(AIRLINE, conf.confirmation_urn)) == "CANCELLED"


@pytest.mark.anyio
async def test_sold_out_contracts_are_not_offered() -> None:
    _, provider = await _setup(_contract(rooms_booked=3))
    assert list(await provider.search(REQ)) == []
    assert SCL.iata == "SCL"
