from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from nexa_adapters.hookspecs import hookimpl
from nexa_adapters.plugins import collect, get_plugin_manager, plugin_infos
from nexa_cli.app import app
from nexa_core.errors import PluginError


class AcmeHotels:
    __name__ = "acme-hotels"

    @hookimpl
    def nexa_register_hotel_providers(self, register):
        register("acme", lambda **_: "acme-provider")


def test_builtins_are_loaded_from_entry_points() -> None:
    names = {p.name: p for p in plugin_infos(get_plugin_manager())}
    assert {"memory", "sandbox"} <= set(names)
    assert "nexa_register_hotel_providers" in names["sandbox"].hooks
    assert names["sandbox"].distribution == "nexa"


def test_a_fake_plugin_is_listed_and_its_factories_collected() -> None:
    pm = get_plugin_manager(plugins=[AcmeHotels()])
    infos = {p.name: p for p in plugin_infos(pm)}
    assert infos["acme-hotels"].hooks == ("nexa_register_hotel_providers",)
    factories = collect(pm, "nexa_register_hotel_providers")
    assert factories["acme"]() == "acme-provider"
    assert "sandbox" in factories


def test_duplicate_registration_names_are_rejected() -> None:
    class Clash:
        __name__ = "clash"

        @hookimpl
        def nexa_register_hotel_providers(self, register):
            register("sandbox", lambda **_: None)

    pm = get_plugin_manager(plugins=[Clash()])
    with pytest.raises(PluginError, match="sandbox"):
        collect(pm, "nexa_register_hotel_providers")


def test_unknown_hook_is_caught_by_check_pending() -> None:
    class Typo:
        __name__ = "typo"

        @hookimpl
        def nexa_register_hotel_provider(self, register):  # missing "s"
            pass

    with pytest.raises(PluginError, match=r"typo|nexa_register_hotel_provider"):
        get_plugin_manager(plugins=[Typo()])


def test_allow_list_limits_loaded_entry_points(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEXA_LOAD_PLUGINS", "memory")
    assert [p.name for p in plugin_infos(get_plugin_manager())] == ["memory"]
    monkeypatch.setenv("NEXA_LOAD_PLUGINS", "")
    assert plugin_infos(get_plugin_manager()) == []


def test_cli_lists_builtins_as_json() -> None:
    result = CliRunner().invoke(app, ["plugins", "list", "--json"])
    assert result.exit_code == 0, result.output
    data = {p["name"]: p for p in json.loads(result.stdout)}
    assert "nexa_store_from_url" in data["memory"]["hooks"]
    assert data["sandbox"]["distribution"] == "nexa"


def test_highs_solver_plugin_registers_the_exact_solver() -> None:
    pytest.importorskip("highspy")
    from nexa_adapters.plugins import collect, get_plugin_manager
    from nexa_adapters.solvers import HighsSolver

    pm = get_plugin_manager(allow=["highs"])
    solvers = collect(pm, "nexa_register_solvers")
    assert isinstance(solvers["highs"](), HighsSolver)


def test_direct_plugin_builds_the_contract_provider_from_the_store() -> None:
    from nexa_adapters.memory import MemoryStore
    from nexa_adapters.plugins import collect, get_plugin_manager
    from nexa_core.errors import ConfigurationError
    from nexa_core.hotels import DirectContracts

    pm = get_plugin_manager(allow=["direct"])
    hotels = collect(pm, "nexa_register_hotel_providers")
    booking = collect(pm, "nexa_register_booking_providers")
    built = hotels["direct"](store=MemoryStore())
    assert isinstance(built, DirectContracts) and built.name == "direct"
    assert isinstance(booking["direct"](store=MemoryStore()), DirectContracts)
    with pytest.raises(ConfigurationError):
        hotels["direct"]()
