"""Certify Acme Hotels with Nexa's conformance kit."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from nexa_acme_hotels import AcmeHotels

from nexa_core.model import HotelOffer
from nexa_core.ports import HotelSearch
from nexa_core.testing.providers import BookingProviderContract, HotelProviderContract


class TestAcmeHotelSearch(HotelProviderContract):
    @pytest.fixture
    async def provider(self) -> AsyncIterator[Any]:
        yield AcmeHotels()


class TestAcmeBooking(BookingProviderContract):
    @pytest.fixture
    async def provider(self) -> AsyncIterator[Any]:
        yield AcmeHotels()

    @pytest.fixture
    async def offer(self, provider: Any, search_request: HotelSearch) -> HotelOffer:
        return (await provider.search(search_request))[0]


@pytest.mark.anyio
async def test_acme_refuses_to_oversell() -> None:
    from nexa_core.errors import ProviderRejectedError
    from nexa_core.testing.providers import sample_booking_request, sample_hotel_search

    acme = AcmeHotels()
    offer = (await acme.search(sample_hotel_search()))[1]  # 8 rooms
    for n in range(8):
        await acme.book(sample_booking_request(offer, f"k-{n}"))
    with pytest.raises(ProviderRejectedError):
        await acme.book(sample_booking_request(offer, "k-9"))


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
