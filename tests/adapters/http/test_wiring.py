"""Every HTTP adapter is a plugin that bootstrap can build, wired to coordination."""

from __future__ import annotations

from nexa_adapters.bootstrap import bootstrap
from nexa_adapters.http.amadeus import AmadeusHotels
from nexa_adapters.http.cabify import CabifyRides
from nexa_adapters.http.hotelbeds import HotelbedsHotels
from nexa_adapters.http.pomelo import PomeloCards
from nexa_adapters.http.sendgrid import SendGridEmail
from nexa_adapters.http.twilio import TwilioSMS
from nexa_adapters.http.uber import UberRides
from nexa_adapters.plugins import collect, get_plugin_manager
from nexa_adapters.secrets import EnvSecrets
from nexa_adapters.settings import Settings
from tests.adapters.http.fakes import FakeBreakers, FakeRateLimiter


class _Coordination:
    def __init__(self) -> None:
        self.rate_limits = FakeRateLimiter()
        self.breakers = FakeBreakers()
        self.holds = self.locks = None

    async def close(self) -> None:
        return None


def test_entry_points_register_every_vendor_under_its_port() -> None:
    pm = get_plugin_manager()
    assert {"amadeus", "hotelbeds"} <= set(collect(pm, "nexa_register_hotel_providers"))
    assert {"amadeus", "hotelbeds"} <= set(collect(pm, "nexa_register_booking_providers"))
    assert "pomelo" in collect(pm, "nexa_register_payment_providers")
    assert {"uber", "cabify"} <= set(collect(pm, "nexa_register_transport_providers"))
    assert {"sendgrid", "twilio"} <= set(collect(pm, "nexa_register_notification_providers"))
    assert {"env", "file"} <= set(collect(pm, "nexa_register_secrets_providers"))


def test_bootstrap_builds_http_adapters_with_the_coordination_ports() -> None:
    coord = _Coordination()
    secrets = EnvSecrets({})
    settings = Settings(
        hotel_providers=("amadeus", "hotelbeds"),
        booking_providers=("amadeus", "hotelbeds"),
        payment_provider="pomelo",
        transport_providers=("uber", "cabify"),
        notification_providers=("sendgrid", "twilio"),
    )
    nexa = bootstrap(
        settings,
        store=object(),
        snapshots=object(),
        coordination=coord,
        provider_options={"secrets": secrets},
    )
    assert isinstance(nexa.hotel_providers["amadeus"], AmadeusHotels)
    assert isinstance(nexa.hotel_providers["hotelbeds"], HotelbedsHotels)
    assert isinstance(nexa.payments, PomeloCards)
    assert isinstance(nexa.transport["uber"], UberRides)
    assert isinstance(nexa.transport["cabify"], CabifyRides)
    assert isinstance(nexa.notifications["sendgrid"], SendGridEmail)
    assert isinstance(nexa.notifications["twilio"], TwilioSMS)
    amadeus = nexa.hotel_providers["amadeus"]
    assert amadeus.http.rate_limiter is coord.rate_limits
    assert amadeus.http.breakers is coord.breakers
    assert amadeus.secrets is secrets
