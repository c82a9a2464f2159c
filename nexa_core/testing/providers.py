"""Conformance kit: contract suites for the provider ports.

A vendor team certifies its plugin by subclassing the suite for each port it implements
and providing the fixtures the suite names (each suite's docstring lists them); run it
with ``pytest``. Request fixtures have sensible defaults (tenant ``urn:airline:LAN``,
airport SCL) that a subclass may override::

    import pytest
    from nexa_core.testing.providers import BookingProviderContract, HotelProviderContract

    class TestAcmeHotels(HotelProviderContract):
        @pytest.fixture
        async def provider(self):
            yield AcmeHotels(...)

    class TestAcmeBooking(BookingProviderContract):
        @pytest.fixture
        async def provider(self):
            yield AcmeHotels(...)

        @pytest.fixture
        async def offer(self, provider, search_request):
            return (await provider.search(search_request))[0]

Every test is async (anyio, asyncio backend). What the suites check is what the ports'
docstrings promise: canonical offers tagged with the provider's vendor, confirmation URNs
``…:vendor:<name>:status:confirmed``, replays that return the first result flagged
``replayed`` without a second side effect, idempotent cancels, and no card numbers.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from nexa_core.errors import NexaError
from nexa_core.model import (
    Channel,
    Contact,
    HotelOffer,
    Money,
    PaymentMode,
    ReservationStatus,
    TransferDirection,
    Vehicle,
)
from nexa_core.model.case import Airport
from nexa_core.ports import (
    BookingConfirmation,
    BookingRequest,
    CardIssued,
    CardIssueRequest,
    HotelSearch,
    OutboundMessage,
    SendResult,
    TransferDispatch,
    TransferQuote,
    TransferRequest,
)
from nexa_core.urn import Urn

__all__ = [
    "BookingProviderContract",
    "HotelProviderContract",
    "NotificationProviderContract",
    "PaymentProviderContract",
    "TransportProviderContract",
    "contains_card_number",
    "sample_booking_request",
    "sample_card_request",
    "sample_hotel_search",
    "sample_message",
    "sample_transfer_request",
]

LAN = Urn("airline", "LAN")
SCL = Airport(
    Urn("airport", "SCL"),
    "Arturo Merino Benitez",
    -33.393,
    -70.7858,
    "America/Santiago",
    "CL",
    "es",
)
_PAN = re.compile(r"(?<!\d)\d{13,19}(?!\d)")


def contains_card_number(text: str) -> bool:
    """Whether ``text`` holds a 13-19 digit run that passes the Luhn check."""
    for m in _PAN.finditer(text):
        digits = [int(c) for c in m.group()][::-1]
        total = sum(
            d if i % 2 == 0 else (d * 2 - 9 if d > 4 else d * 2) for i, d in enumerate(digits)
        )
        if total % 10 == 0:
            return True
    return False


def sample_hotel_search(
    airline: Urn = LAN, *, check_in: date = date(2026, 5, 5), nights: int = 1, rooms: int = 2
) -> HotelSearch:
    """A search around SCL for ``rooms`` rooms."""
    return HotelSearch(
        airline_urn=airline,
        airport=SCL,
        check_in=check_in,
        check_out=date.fromordinal(check_in.toordinal() + nights),
        rooms=rooms,
        radius_km=20.0,
        currency="USD",
    )


def sample_booking_request(
    offer: HotelOffer, key: str = "booking:k-1", airline: Urn = LAN
) -> BookingRequest:
    """Book the offer's first room type for one guest."""
    rooms = tuple(r.room_type for r in offer.rooms if r.count > 0)[:1]
    return BookingRequest(
        airline_urn=airline,
        reservation_urn=Urn("reservation", "r-" + hashlib.sha256(key.encode()).hexdigest()[:12]),
        offer=offer,
        rooms=rooms,
        lead_name="Ana Perez",
        lead_contact=Contact("ana.perez@example.com", "+56911112222", "es", "Ana Perez"),
        guests=1,
        payment=PaymentMode.GUARANTEE,
        idempotency_key=key,
    )


def sample_card_request(key: str = "card:k-1", airline: Urn = LAN) -> CardIssueRequest:
    """One card for group G1 of case c-1."""
    return CardIssueRequest(
        airline_urn=airline,
        card_urn=Urn("issued-card", "ic-1"),
        case_urn=Urn("case", "c-1"),
        group_id="G1",
        holder_urn=Urn("passenger", "p-1", "latam"),
        currency="USD",
        idempotency_key=key,
    )


def sample_transfer_request(
    transfer: str = "t-1", airline: Urn = LAN, passengers: int = 3
) -> TransferRequest:
    """Airport → hotel for ``passengers`` people."""
    return TransferRequest(
        airline_urn=airline,
        transfer_urn=Urn("transfer", transfer),
        direction=TransferDirection.AIRPORT_TO_HOTEL,
        vehicle=Vehicle.PRIVATE_CAR,
        pickup_at=datetime(2026, 5, 5, 22, 0, tzinfo=UTC),
        passengers=passengers,
        pickup=(-33.393, -70.7858),
        dropoff=(-33.41, -70.60),
        lead_name="Ana Perez",
    )


def sample_message(
    channel: Channel, dedup_key: str = "notification:k-1", airline: Urn = LAN
) -> OutboundMessage:
    """A voucher message on ``channel``."""
    to = "ana.perez@example.com" if channel is Channel.EMAIL else "+56911112222"
    return OutboundMessage(
        airline_urn=airline,
        channel=channel,
        to=to,
        subject="Your hotel voucher",
        text="Your room is confirmed.",
        html="<p>Your room is confirmed.</p>" if channel is Channel.EMAIL else None,
        dedup_key=dedup_key,
    )


class _Suite:
    @pytest.fixture
    def anyio_backend(self) -> str:
        return "asyncio"

    @pytest.fixture
    async def provider(self) -> AsyncIterator[Any]:  # pragma: no cover
        raise NotImplementedError("subclasses provide a provider fixture")
        yield


@pytest.mark.anyio
class HotelProviderContract(_Suite):
    """:class:`~nexa_core.ports.HotelProvider`. Fixtures: ``provider`` (and optionally
    ``search_request``, default :func:`sample_hotel_search`)."""

    @pytest.fixture
    def search_request(self) -> HotelSearch:
        return sample_hotel_search()

    async def test_search_returns_canonical_offers_of_this_vendor(
        self, provider: Any, search_request: HotelSearch
    ) -> None:
        offers = list(await provider.search(search_request))
        assert offers, "the conformance traffic must yield at least one offer"
        for offer in offers:
            assert isinstance(offer, HotelOffer)
            assert offer.hotel_urn.entity == "hotel" and offer.urn.entity == "offer"
            assert offer.vendor == provider.name
            assert offer.check_in == search_request.check_in
            assert offer.check_out == search_request.check_out
            assert len(offer.currency) == 3 and offer.currency.isupper()
            assert offer.rooms and all(isinstance(r.nightly_rate, Decimal) for r in offer.rooms)
            assert all(r.nightly_rate > 0 for r in offer.rooms if r.count > 0)
            assert -90 <= offer.latitude <= 90 and -180 <= offer.longitude <= 180

    async def test_offer_urns_are_unique(self, provider: Any, search_request: HotelSearch) -> None:
        offers = list(await provider.search(search_request))
        assert len({o.urn for o in offers}) == len(offers)

    async def test_search_has_no_side_effects(
        self, provider: Any, search_request: HotelSearch
    ) -> None:
        first = {o.urn for o in await provider.search(search_request)}
        second = {o.urn for o in await provider.search(search_request)}
        assert first == second


@pytest.mark.anyio
class BookingProviderContract(_Suite):
    """:class:`~nexa_core.ports.BookingProvider`. Fixtures: ``provider`` and ``offer`` (an
    offer this provider can book; ``search_request`` helps build it)."""

    @pytest.fixture
    def search_request(self) -> HotelSearch:
        return sample_hotel_search()

    @pytest.fixture
    async def offer(
        self, provider: Any, search_request: HotelSearch
    ) -> HotelOffer:  # pragma: no cover
        raise NotImplementedError("subclasses provide an offer fixture")

    async def test_booking_confirms_with_a_vendor_confirmation_urn(
        self, provider: Any, offer: HotelOffer
    ) -> None:
        request = sample_booking_request(offer)
        conf = await provider.book(request)
        assert isinstance(conf, BookingConfirmation)
        assert conf.reservation_urn == request.reservation_urn
        assert conf.confirmation_urn.entity == "reservation"
        assert conf.confirmation_urn.vendor == provider.name
        assert conf.confirmation_urn.status == "confirmed"
        assert conf.total.amount > 0 and conf.replayed is False

    async def test_replaying_the_key_returns_the_first_confirmation(
        self, provider: Any, offer: HotelOffer
    ) -> None:
        first = await provider.book(sample_booking_request(offer, "booking:replay"))
        again = await provider.book(sample_booking_request(offer, "booking:replay"))
        assert again.replayed is True
        assert again.confirmation_urn == first.confirmation_urn
        assert again.total == first.total

    async def test_status_then_cancel_is_idempotent(self, provider: Any, offer: HotelOffer) -> None:
        conf = await provider.book(sample_booking_request(offer, "booking:cancel"))
        assert await provider.status(LAN, conf.confirmation_urn) is ReservationStatus.CONFIRMED
        await provider.cancel(LAN, conf.confirmation_urn, idempotency_key="cancel:1")
        await provider.cancel(LAN, conf.confirmation_urn, idempotency_key="cancel:1")
        assert await provider.status(LAN, conf.confirmation_urn) is ReservationStatus.CANCELLED

    async def test_failures_are_nexa_errors(self, provider: Any, offer: HotelOffer) -> None:
        unknown = Urn("reservation", "NO-SUCH-BOOKING", provider.name, "confirmed")
        try:
            await provider.status(LAN, unknown)
        except NexaError:
            return
        except Exception as exc:  # pragma: no cover - the failure we are testing for
            pytest.fail(
                f"status of an unknown booking raised {type(exc).__name__}, not a NexaError"
            )


@pytest.mark.anyio
class PaymentProviderContract(_Suite):
    """:class:`~nexa_core.ports.PaymentProvider`. Fixtures: ``provider``."""

    async def test_issue_returns_a_reference_and_never_a_card_number(self, provider: Any) -> None:
        request = sample_card_request()
        card = await provider.issue_card(request)
        assert isinstance(card, CardIssued)
        assert card.card_urn == request.card_urn and card.vendor_ref
        assert not contains_card_number(repr(card))
        assert card.replayed is False

    async def test_issue_is_idempotent_per_key(self, provider: Any) -> None:
        first = await provider.issue_card(sample_card_request("card:replay"))
        again = await provider.issue_card(sample_card_request("card:replay"))
        assert again.replayed is True and again.vendor_ref == first.vendor_ref

    async def test_load_and_cancel_are_idempotent(self, provider: Any) -> None:
        card = await provider.issue_card(sample_card_request("card:load"))
        amount = Money(Decimal("45.00"), "USD")
        await provider.load(LAN, card, amount, idempotency_key="load:1")
        await provider.load(LAN, card, amount, idempotency_key="load:1")
        await provider.cancel_card(LAN, card, idempotency_key="cancel:1")
        await provider.cancel_card(LAN, card, idempotency_key="cancel:1")


@pytest.mark.anyio
class TransportProviderContract(_Suite):
    """:class:`~nexa_core.ports.TransportProvider`. Fixtures: ``provider``."""

    async def test_quote_prices_without_side_effects(self, provider: Any) -> None:
        quote = await provider.quote(sample_transfer_request())
        assert isinstance(quote, TransferQuote)
        assert quote.vendor == provider.name
        assert isinstance(quote.price, Money) and quote.price.amount >= 0
        assert isinstance(quote.available, bool)

    async def test_dispatch_uses_the_transfer_urn_and_replays(self, provider: Any) -> None:
        request = sample_transfer_request("t-replay")
        first = await provider.dispatch(request)
        assert isinstance(first, TransferDispatch)
        assert first.transfer_urn == request.transfer_urn and first.vendor_ref
        again = await provider.dispatch(request)
        assert again.replayed is True and again.vendor_ref == first.vendor_ref

    async def test_cancel_returns_a_fee_or_none(self, provider: Any) -> None:
        request = sample_transfer_request("t-cancel")
        await provider.dispatch(request)
        fee = await provider.cancel(LAN, request.transfer_urn)
        assert fee is None or isinstance(fee, Money)
        assert await provider.cancel(LAN, request.transfer_urn) == fee  # idempotent


@pytest.mark.anyio
class NotificationProviderContract(_Suite):
    """:class:`~nexa_core.ports.NotificationProvider`. Fixtures: ``provider``."""

    async def test_channels_are_declared(self, provider: Any) -> None:
        assert provider.channels and all(isinstance(c, Channel) for c in provider.channels)

    async def test_send_returns_a_message_id(self, provider: Any) -> None:
        channel = sorted(provider.channels)[0]
        result = await provider.send(sample_message(channel))
        assert isinstance(result, SendResult) and result.provider_message_id
        assert result.replayed is False

    async def test_a_replayed_dedup_key_returns_the_first_result(self, provider: Any) -> None:
        channel = sorted(provider.channels)[0]
        first = await provider.send(sample_message(channel, "notification:replay"))
        again = await provider.send(sample_message(channel, "notification:replay"))
        assert again.replayed is True
        assert again.provider_message_id == first.provider_message_id
