"""The sandbox partners pass the provider conformance kit."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from nexa_adapters.sandbox import (
    SandboxBooking,
    SandboxHotels,
    SandboxMessages,
    SandboxPayments,
    SandboxTransport,
)
from nexa_core.model import HotelOffer
from nexa_core.ports import HotelSearch
from nexa_core.testing.providers import (
    BookingProviderContract,
    HotelProviderContract,
    NotificationProviderContract,
    PaymentProviderContract,
    TransportProviderContract,
)


class TestSandboxHotels(HotelProviderContract):
    @pytest.fixture
    async def provider(self) -> AsyncIterator[Any]:
        yield SandboxHotels()


class TestSandboxBooking(BookingProviderContract):
    @pytest.fixture
    async def provider(self) -> AsyncIterator[Any]:
        yield SandboxBooking()

    @pytest.fixture
    async def offer(self, provider: Any, search_request: HotelSearch) -> HotelOffer:
        return (await SandboxHotels().search(search_request))[0]


class TestSandboxPayments(PaymentProviderContract):
    @pytest.fixture
    async def provider(self) -> AsyncIterator[Any]:
        yield SandboxPayments()


class TestSandboxTransport(TransportProviderContract):
    @pytest.fixture
    async def provider(self) -> AsyncIterator[Any]:
        yield SandboxTransport()


class TestSandboxMessages(NotificationProviderContract):
    @pytest.fixture
    async def provider(self) -> AsyncIterator[Any]:
        yield SandboxMessages()
