"""The conformance kit fails providers that break the ports' promises."""

from __future__ import annotations

from decimal import Decimal

import attrs
import pytest

from nexa_adapters.sandbox import SandboxBooking, SandboxHotels, SandboxMessages, SandboxPayments
from nexa_core.ports import BookingConfirmation, BookingRequest, CardIssued, CardIssueRequest
from nexa_core.testing.providers import (
    BookingProviderContract,
    HotelProviderContract,
    NotificationProviderContract,
    PaymentProviderContract,
    contains_card_number,
    sample_hotel_search,
)
from nexa_core.urn import Urn


class _NoReplayBooking(SandboxBooking):
    """Books again on every call (ignores the idempotency key)."""

    async def book(self, request: BookingRequest) -> BookingConfirmation:
        conf = await super().book(request)
        self.bookings.clear()
        return attrs.evolve(conf, replayed=False)


class _WrongVendorBooking(SandboxBooking):
    async def book(self, request: BookingRequest) -> BookingConfirmation:
        conf = await super().book(request)
        return attrs.evolve(conf, confirmation_urn=Urn("reservation", "X1", "other", "confirmed"))


class _PanPayments(SandboxPayments):
    async def issue_card(self, request: CardIssueRequest) -> CardIssued:
        return CardIssued(request.card_urn, "4111111111111111")


class _ForgetfulMessages(SandboxMessages):
    async def send(self, message):  # type: ignore[no-untyped-def]
        self.sent.clear()
        return await super().send(message)


class _ZeroPriceHotels(SandboxHotels):
    async def search(self, request):  # type: ignore[no-untyped-def]
        offers = await super().search(request)
        return [
            attrs.evolve(o, rooms=tuple(attrs.evolve(r, nightly_rate=Decimal(0)) for r in o.rooms))
            for o in offers
        ]


async def _offer():  # type: ignore[no-untyped-def]
    return (await SandboxHotels().search(sample_hotel_search()))[0]


@pytest.mark.anyio
async def test_a_booking_provider_without_replays_fails_the_kit() -> None:
    with pytest.raises(AssertionError):
        await BookingProviderContract().test_replaying_the_key_returns_the_first_confirmation(
            _NoReplayBooking(), await _offer()
        )


@pytest.mark.anyio
async def test_a_confirmation_of_another_vendor_fails_the_kit() -> None:
    with pytest.raises(AssertionError):
        await BookingProviderContract().test_booking_confirms_with_a_vendor_confirmation_urn(
            _WrongVendorBooking(), await _offer()
        )


@pytest.mark.anyio
async def test_a_card_number_as_reference_fails_the_kit() -> None:
    assert contains_card_number("ref 4111111111111111") and not contains_card_number("crd-1234")
    with pytest.raises(AssertionError):
        await PaymentProviderContract().test_issue_returns_a_reference_and_never_a_card_number(
            _PanPayments()
        )


@pytest.mark.anyio
async def test_a_sender_that_forgets_dedup_keys_fails_the_kit() -> None:
    with pytest.raises(AssertionError):
        await NotificationProviderContract().test_a_replayed_dedup_key_returns_the_first_result(
            _ForgetfulMessages()
        )


@pytest.mark.anyio
async def test_free_rooms_fail_the_hotel_kit() -> None:
    with pytest.raises(AssertionError):
        await HotelProviderContract().test_search_returns_canonical_offers_of_this_vendor(
            _ZeroPriceHotels(), sample_hotel_search()
        )
