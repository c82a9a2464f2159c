from __future__ import annotations

from datetime import date

import pytest

from nexa_adapters.bootstrap import bootstrap
from nexa_adapters.memory import MemoryStore
from nexa_adapters.sandbox import FaultInjector, SandboxBooking, SandboxHotels, airport
from nexa_adapters.settings import Settings
from nexa_core.errors import ConfigurationError, ProviderRejectedError, UnknownAirportError
from nexa_core.model import PaymentMode, RoomType
from nexa_core.ports import BookingRequest, HotelSearch
from nexa_core.testing import make_passenger
from nexa_core.urn import Urn


def test_settings_precedence_flags_over_env_over_toml(tmp_path) -> None:
    toml = tmp_path / "nexa.toml"
    toml.write_text('[nexa]\nstore_url = "memory://"\nsearch_timeout_s = 5\nseed = 3\n')
    env = {"NEXA_SEARCH_TIMEOUT_S": "3", "NEXA_HOTEL_PROVIDERS": "sandbox, acme"}
    s = Settings.load(toml, env=env, seed=11)
    assert s.store_url == "memory://"
    assert s.search_timeout_s == 3.0
    assert s.hotel_providers == ("sandbox", "acme")
    assert s.seed == 11


def test_bad_settings_are_a_configuration_error(tmp_path) -> None:
    with pytest.raises(ConfigurationError, match="search_timeout_s"):
        Settings.load(tmp_path / "none.toml", env={"NEXA_SEARCH_TIMEOUT_S": "soon"})
    with pytest.raises(ConfigurationError):
        Settings.load(tmp_path / "none.toml", env={}, no_such_setting=1)


def test_secrets_are_masked() -> None:
    s = Settings.load("/nonexistent", env={"NEXA_JWT_SECRET": "hunter2"})
    assert s.masked()["jwt_secret"] == "********"
    assert "hunter2" not in repr(s)


def test_bootstrap_wires_memory_and_sandbox() -> None:
    nexa = bootstrap(Settings.load("/nonexistent", env={}, store_url="memory://"))
    assert isinstance(nexa.store, MemoryStore)
    assert isinstance(nexa.hotel_providers["sandbox"], SandboxHotels)
    assert isinstance(
        nexa.booking.resolve(Urn.parse("urn:hotel:H1:vendor:sandbox")), SandboxBooking
    )


def test_bootstrap_rejects_unknown_store_and_providers() -> None:
    with pytest.raises(ConfigurationError, match="no plugin handles"):
        bootstrap(Settings.load("/nonexistent", env={}, store_url="mongodb://x"))
    with pytest.raises(ConfigurationError, match="no provider named"):
        bootstrap(
            Settings.load("/nonexistent", env={}, store_url="memory://", hotel_providers=("nope",))
        )


@pytest.mark.anyio
async def test_sandbox_inventory_is_deterministic_and_never_oversold() -> None:
    scl = airport("SCL")
    assert scl.timezone == "America/Santiago"
    search = HotelSearch(Urn("airline", "LAN"), scl, date(2026, 5, 5), date(2026, 5, 6), 10)
    a = await SandboxHotels(seed=1).search(search)
    b = await SandboxHotels(seed=1).search(search)
    assert [(o.urn, o.rooms) for o in a] == [(o.urn, o.rooms) for o in b]
    offer = min(a, key=lambda o: o.total_rooms)
    booking = SandboxBooking()
    pax = make_passenger()
    sold = 0
    for i in range(offer.total_rooms + 3):
        req = BookingRequest(
            Urn("airline", "LAN"),
            Urn("reservation", f"r-{i}"),
            offer,
            (RoomType.DBL,),
            "Pax",
            pax.contact,
            1,
            PaymentMode.GUARANTEE,
            f"k-{i}",
        )
        try:
            await booking.book(req)
            sold += 1
        except ProviderRejectedError:
            pass
    assert sold == offer.total_rooms
    first = BookingRequest(
        Urn("airline", "LAN"),
        Urn("reservation", "r-0"),
        offer,
        (RoomType.DBL,),
        "Pax",
        pax.contact,
        1,
        PaymentMode.GUARANTEE,
        "k-0",
    )
    replay = await booking.book(first)
    assert replay.replayed and replay.confirmation_urn == booking.bookings["k-0"].confirmation_urn
    with pytest.raises(UnknownAirportError):
        airport("QQQ")


@pytest.mark.anyio
async def test_fault_injection_raises_typed_errors() -> None:
    from nexa_core.errors import ProviderUnavailableError

    f = FaultInjector(transient_rate=1.0)
    with pytest.raises(ProviderUnavailableError):
        await f.hit("sandbox", "booking")
    f = FaultInjector(fail_keys={"k"})
    with pytest.raises(ProviderRejectedError):
        await f.hit("sandbox", "booking", "k")
