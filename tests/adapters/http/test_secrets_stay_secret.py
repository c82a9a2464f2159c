"""Credentials and tokens never reach logs or errors; replays survive a new adapter instance."""

from __future__ import annotations

import logging
from typing import Any

import pytest
import respx

from nexa_adapters.http.amadeus import AmadeusHotels
from nexa_adapters.http.hotelbeds import HotelbedsHotels
from nexa_adapters.memory.store import MemoryStore
from nexa_core.runtime import FixedClock
from nexa_core.testing.providers import LAN, sample_booking_request, sample_hotel_search
from tests.adapters.http import amadeus_fake, hotelbeds_fake
from tests.adapters.http.conftest import adapter_options


@pytest.mark.anyio
async def test_no_secret_or_token_is_logged_during_search_and_booking(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = FixedClock()
    with caplog.at_level(logging.DEBUG), respx.mock(assert_all_called=False) as mock:
        # one router for both partners (absolute URLs)
        amadeus_fake.FakeAmadeus(_prefixed(mock, amadeus_fake.BASE))
        hotelbeds_fake.FakeHotelbeds(_prefixed(mock, hotelbeds_fake.BASE), clock)
        a = AmadeusHotels(**adapter_options(amadeus_fake.ENV, clock=clock))
        offer = (await a.search(sample_hotel_search()))[0]
        await a.book(sample_booking_request(offer))
        h = HotelbedsHotels(**adapter_options(hotelbeds_fake.ENV, clock=clock))
        await h.search(sample_hotel_search())
    text = caplog.text
    assert "amadeus hotel-search: HTTP 200" in text  # the partner log line exists
    secrets = [*amadeus_fake.ENV.values(), *hotelbeds_fake.ENV.values(), "tok-1"]
    leaked = [s for s in secrets if s in text]
    assert not leaked, f"leaked into logs: {len(leaked)} value(s)"
    assert "ana.perez@example.com" not in text


class _Prefixed:
    """Route helper so two fakes can share one respx router with absolute URLs."""

    def __init__(self, router: respx.MockRouter, base: str) -> None:
        self._router, self._base = router, base

    def _route(self, method: str, path: str | None = None, **kw: Any) -> Any:
        if path is not None:
            return self._router.route(method=method, url=self._base + path)
        return self._router.route(method=method, **kw)

    def get(self, path: str | None = None, **kw: Any) -> Any:
        return self._route("GET", path, **kw)

    def post(self, path: str | None = None, **kw: Any) -> Any:
        return self._route("POST", path, **kw)

    def delete(self, path: str | None = None, **kw: Any) -> Any:
        return self._route("DELETE", path, **kw)


def _prefixed(router: respx.MockRouter, base: str) -> Any:
    return _Prefixed(router, base)


@pytest.mark.anyio
async def test_replays_kept_in_the_operational_store_span_adapter_instances() -> None:
    store = MemoryStore()
    with respx.mock(base_url=amadeus_fake.BASE, assert_all_called=False) as mock:
        fake = amadeus_fake.FakeAmadeus(mock)
        first = AmadeusHotels(**adapter_options(amadeus_fake.ENV, idempotency=store.idempotency))
        offer = (await first.search(sample_hotel_search()))[0]
        conf = await first.book(sample_booking_request(offer, "booking:durable"))
        # a different worker (fresh adapter, same store) replays instead of booking again
        second = AmadeusHotels(**adapter_options(amadeus_fake.ENV, idempotency=store.idempotency))
        again = await second.book(sample_booking_request(offer, "booking:durable"))
        assert again.replayed and again.confirmation_urn == conf.confirmation_urn
        assert len(fake.bookings) == 1
        await second.cancel(
            LAN,
            conf.confirmation_urn,
            idempotency_key="c",
        )
        assert list(fake.orders.values()) == ["CANCELLED"]
