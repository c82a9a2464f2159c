"""Direct hotel contracts as a hotel provider and a booking provider (vendor ``direct``).

A contract guarantees rooms at a rate for date ranges, scoped to airports and tiers. The
search returns one offer per contract whose scope covers the searched airport and one of
whose rates covers every night of the stay, with ``guaranteed_rooms − rooms_booked``
rooms. Tier scope travels on the offer as ``tier:<TIER>`` amenity tags (the ranking gate
refuses an offer carrying tier tags for other tiers). Booking increments
``rooms_booked`` (so fewer rooms are offered), cancellation restores it; both are
idempotent per key and use the store's optimistic versions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

import attrs

from nexa_core.errors import (
    CapacityError,
    ConcurrencyError,
    NotFoundError,
    ProviderRejectedError,
)
from nexa_core.model import (
    Contract,
    ContractRate,
    HotelOffer,
    Money,
    ReservationStatus,
    RoomOffer,
    RoomType,
    Tier,
)
from nexa_core.ports import (
    BookingConfirmation,
    BookingRequest,
    Clock,
    HotelSearch,
    OperationalStore,
)
from nexa_core.tenancy import TenantContext
from nexa_core.urn import Urn

__all__ = ["TIER_TAG_PREFIX", "DirectContracts", "contract_offer"]

TIER_TAG_PREFIX = "tier:"
VENDOR = "direct"


def _covering_rate(contract: Contract, check_in: date, check_out: date) -> ContractRate | None:
    for rate in contract.rates:
        if rate.valid_from <= check_in and check_out <= rate.valid_until:
            return rate
    return None


def contract_offer(contract: Contract, rate: ContractRate, request: HotelSearch) -> HotelOffer:
    """The canonical offer for a contract's rate over the requested stay."""
    available = max(0, rate.guaranteed_rooms - contract.rooms_booked)
    try:
        room_type = RoomType(rate.room_type.upper())
    except ValueError:
        room_type = RoomType.DBL
    tier_tags = (
        frozenset()
        if contract.tiers == frozenset(Tier)
        else frozenset(f"{TIER_TAG_PREFIX}{t.value}" for t in contract.tiers)
    )
    return HotelOffer(
        urn=Urn(
            "offer",
            f"{VENDOR}-{contract.urn.id}-{request.check_in:%Y%m%d}-{request.check_out:%Y%m%d}",
        ),
        hotel_urn=Urn("hotel", contract.urn.id, VENDOR),
        name=contract.hotel_name,
        address=contract.address,
        latitude=contract.latitude,
        longitude=contract.longitude,
        stars=contract.stars,
        rooms=(RoomOffer(room_type, available, rate.nightly_rate),),
        currency=contract.currency,
        check_in=request.check_in,
        check_out=request.check_out,
        amenities=contract.amenities | tier_tags,
        external_ids=contract.external_ids,
        phone=contract.phone,
        market_rate=contract.market_rate,
    )


class DirectContracts:
    """Contracts of the tenant in the operational store, as search + booking provider."""

    name = VENDOR

    def __init__(self, store: OperationalStore, clock: Clock, *, retries: int = 5) -> None:
        self.store = store
        self.clock = clock
        self.retries = retries

    async def matching(self, tenant: TenantContext, request: HotelSearch) -> list[Contract]:
        """The tenant's contracts covering the airport and the whole stay."""
        contracts: Sequence[Contract] = await self.store.contracts.find(tenant)
        return [
            c
            for c in contracts
            if request.airport.urn.base in {a.base for a in c.airports}
            and _covering_rate(c, request.check_in, request.check_out) is not None
        ]

    async def search(self, request: HotelSearch) -> Sequence[HotelOffer]:
        """One offer per matching contract with rooms left."""
        tenant = TenantContext.system(request.airline_urn)
        out = []
        for c in await self.matching(tenant, request):
            rate = _covering_rate(c, request.check_in, request.check_out)
            assert rate is not None
            offer = contract_offer(c, rate, request)
            if offer.total_rooms > 0:
                out.append(attrs.evolve(offer, fetched_at=self.clock.now()))
        return out

    async def _adjust(
        self, tenant: TenantContext, contract_urn: Urn, delta: int, cap: int | None
    ) -> Contract:
        for _ in range(self.retries):
            c = await self.store.contracts.get(tenant, contract_urn)
            booked = c.rooms_booked + delta
            if booked < 0:
                booked = 0
            if cap is not None and booked > cap:
                raise CapacityError(
                    f"contract {contract_urn} has {max(0, cap - c.rooms_booked)} rooms left",
                    urn=str(contract_urn),
                )
            try:
                return await self.store.contracts.update(
                    tenant, attrs.evolve(c, rooms_booked=booked)
                )
            except ConcurrencyError:
                continue
        raise ConcurrencyError(f"contract {contract_urn} kept changing", urn=str(contract_urn))

    async def book(self, request: BookingRequest) -> BookingConfirmation:
        """Take rooms from the guaranteed allotment (replays return the first result)."""
        tenant = TenantContext.system(request.airline_urn)
        idem = self.store.idempotency
        first = await idem.lookup(tenant, _BOOK, request.idempotency_key)
        if first is not None:
            return _confirmation(first.result, replayed=True)
        offer = request.offer
        if offer.vendor != VENDOR:
            raise ProviderRejectedError("not a direct-contract offer", vendor=VENDOR)
        contract_urn = Urn("contract", offer.hotel_urn.id)
        try:
            contract = await self.store.contracts.get(tenant, contract_urn)
        except NotFoundError as exc:
            raise ProviderRejectedError(
                f"contract {contract_urn} not found", vendor=VENDOR, reason="unknown-contract"
            ) from exc
        rate = _covering_rate(contract, offer.check_in, offer.check_out)
        if rate is None:
            raise ProviderRejectedError("the contract does not cover the stay", vendor=VENDOR)
        try:
            await self._adjust(tenant, contract_urn, len(request.rooms), rate.guaranteed_rooms)
        except CapacityError as exc:
            raise ProviderRejectedError(str(exc), vendor=VENDOR, reason="hotel-full") from exc
        total = rate.nightly_rate * len(request.rooms) * max(1, offer.nights)
        confirmation = Urn("reservation", f"DC-{request.reservation_urn.id}", VENDOR, "confirmed")
        result = {
            "reservation_urn": str(request.reservation_urn),
            "confirmation_urn": str(confirmation),
            "total": str(total),
            "currency": contract.currency,
            "contract_urn": str(contract_urn),
            "rooms": len(request.rooms),
        }
        stored = await idem.remember(tenant, _BOOK, request.idempotency_key, result)
        await idem.remember(tenant, _CONF, str(confirmation.base), result)
        return _confirmation(stored.result, replayed=False)

    async def cancel(
        self, airline_urn: Urn, confirmation_urn: Urn, *, idempotency_key: str
    ) -> None:
        """Give the rooms back to the allotment (cancelling twice is a no-op)."""
        tenant = TenantContext.system(airline_urn)
        idem = self.store.idempotency
        key = str(confirmation_urn.base)
        booked = await idem.lookup(tenant, _CONF, key)
        if booked is None:
            raise NotFoundError(f"{confirmation_urn} not found", urn=str(confirmation_urn))
        if await idem.lookup(tenant, _CANCEL, key) is not None:
            return
        data = booked.result
        await self._adjust(tenant, Urn.parse(str(data["contract_urn"])), -int(data["rooms"]), None)
        await idem.remember(tenant, _CANCEL, key, {"cancelled": True})

    async def status(self, airline_urn: Urn, confirmation_urn: Urn) -> ReservationStatus:
        """CONFIRMED or CANCELLED for bookings made here."""
        tenant = TenantContext.system(airline_urn)
        key = str(confirmation_urn.base)
        if await self.store.idempotency.lookup(tenant, _CONF, key) is None:
            raise NotFoundError(f"{confirmation_urn} not found", urn=str(confirmation_urn))
        if await self.store.idempotency.lookup(tenant, _CANCEL, key) is not None:
            return ReservationStatus.CANCELLED
        return ReservationStatus.CONFIRMED


_BOOK = "direct-contract-booking"
_CONF = "direct-contract-confirmation"
_CANCEL = "direct-contract-cancel"


def _confirmation(data: Mapping[str, Any], *, replayed: bool) -> BookingConfirmation:
    return BookingConfirmation(
        reservation_urn=Urn.parse(str(data["reservation_urn"])),
        confirmation_urn=Urn.parse(str(data["confirmation_urn"])),
        total=Money(Decimal(str(data["total"])), str(data["currency"])),
        replayed=replayed,
    )
