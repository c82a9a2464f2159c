"""Per-tenant secrets: env and file adapters, and the redacting Secret."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from nexa_adapters.plugins import collect, get_plugin_manager
from nexa_adapters.secrets import EnvSecrets, FileSecrets, Secret, env_var_name, secret_path
from nexa_core.errors import ConfigurationError, InvalidInputError, NotFoundError
from nexa_core.urn import Urn

LAN = Urn("airline", "LAN")
VALUE = "sk_live_do-not-print-me"


def test_secret_path_and_env_var_mapping() -> None:
    assert secret_path(LAN, "amadeus", "client_id") == "nexa/LAN/vendor/amadeus/client_id"
    assert env_var_name(LAN, "amadeus", "client_id") == "NEXA_SECRET__LAN__AMADEUS__CLIENT_ID"
    assert env_var_name("urn:airline:TAM", "x-vendor", "api.key") == (
        "NEXA_SECRET__TAM__X_VENDOR__API_KEY"
    )


@pytest.mark.anyio
async def test_env_secrets_reads_the_mapped_variable_per_tenant() -> None:
    env = {"NEXA_SECRET__LAN__AMADEUS__CLIENT_ID": VALUE}
    secrets = EnvSecrets(env)
    assert await secrets.get(LAN, "amadeus", "client_id") == VALUE
    with pytest.raises(NotFoundError, match="NEXA_SECRET__TAM__AMADEUS__CLIENT_ID"):
        await secrets.get(Urn("airline", "TAM"), "amadeus", "client_id")


@pytest.mark.anyio
async def test_invalid_vendor_or_name_is_rejected() -> None:
    with pytest.raises(InvalidInputError):
        await EnvSecrets({}).get(LAN, "../etc", "passwd")


@pytest.mark.anyio
async def test_file_secrets_from_a_directory_tree(tmp_path: Path) -> None:
    d = tmp_path / "nexa" / "LAN" / "vendor" / "hotelbeds"
    d.mkdir(parents=True)
    (d / "api_key").write_text(VALUE + "\n")
    secrets = FileSecrets(tmp_path)
    assert await secrets.get(LAN, "hotelbeds", "api_key") == VALUE
    with pytest.raises(NotFoundError, match="nexa/LAN/vendor/hotelbeds/secret"):
        await secrets.get(LAN, "hotelbeds", "secret")


@pytest.mark.anyio
async def test_file_secrets_from_toml(tmp_path: Path) -> None:
    f = tmp_path / "secrets.toml"
    f.write_text(f'[nexa.LAN.vendor.twilio]\nauth_token = "{VALUE}"\n')
    secrets = FileSecrets(f)
    assert await secrets.get(LAN, "twilio", "auth_token") == VALUE
    with pytest.raises(NotFoundError):
        await secrets.get(Urn("airline", "TAM"), "twilio", "auth_token")


def test_bad_toml_error_does_not_quote_values(tmp_path: Path) -> None:
    f = tmp_path / "secrets.toml"
    f.write_text(f'[nexa.LAN.vendor.twilio]\nauth_token = "{VALUE}\n')
    with pytest.raises(ConfigurationError) as info:
        FileSecrets(f)
    assert VALUE not in str(info.value)


def test_secret_never_shows_its_value(caplog: pytest.LogCaptureFixture) -> None:
    s = Secret(VALUE)
    assert VALUE not in repr(s) and VALUE not in str(s) and VALUE not in f"{s}"
    assert VALUE not in repr({"key": s}) and VALUE not in repr([s])
    with caplog.at_level(logging.INFO):
        logging.getLogger("nexa.test").info("using %s and %r", s, s)
    assert VALUE not in caplog.text
    err = RuntimeError(f"failed with {s}")
    assert VALUE not in str(err)
    assert s.reveal() == VALUE
    assert s == Secret(VALUE) and s != Secret("other")


def test_secret_cannot_be_pickled() -> None:
    import pickle

    with pytest.raises(TypeError):
        pickle.dumps(Secret(VALUE))


def test_secrets_plugin_registers_env_and_file(tmp_path: Path) -> None:
    from nexa_adapters.secrets import plugin

    pm = get_plugin_manager(entrypoints=False, plugins=[plugin])
    factories = collect(pm, "nexa_register_secrets_providers")
    assert sorted(factories) == ["env", "file"]
    assert isinstance(factories["file"](secrets_path=str(tmp_path)), FileSecrets)
    assert isinstance(factories["env"](environ={}), EnvSecrets)
