"""Per-tenant partner credentials: ``nexa/<tenant>/vendor/<vendor>/<name>``.

Two :class:`~nexa_core.ports.SecretsProvider` adapters:

* :class:`EnvSecrets` reads ``NEXA_SECRET__<TENANT>__<VENDOR>__<NAME>`` (upper case, every
  character outside ``A-Z0-9`` becomes ``_``), e.g. the Amadeus client id of tenant
  ``urn:airline:LAN`` is ``NEXA_SECRET__LAN__AMADEUS__CLIENT_ID``.
* :class:`FileSecrets` reads a directory tree (``<root>/nexa/LAN/vendor/amadeus/client_id``,
  one value per file, surrounding whitespace stripped) or one TOML file with tables
  ``[nexa.LAN.vendor.amadeus]`` holding ``client_id = "…"``.

Adapters wrap every value in :class:`Secret` immediately, so a value never shows up in a
log line, a repr or an exception message; :meth:`Secret.reveal` is the only way out.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from nexa_core.errors import ConfigurationError, InvalidInputError, NotFoundError
from nexa_core.urn import Urn

__all__ = ["EnvSecrets", "FileSecrets", "Secret", "env_var_name", "secret_path"]

_NAME = re.compile(r"[a-z0-9][a-z0-9_.-]{0,63}")


def _tenant_id(tenant: Urn | str) -> str:
    return tenant.id if isinstance(tenant, Urn) else Urn.parse(tenant).id


def _check(vendor: str, name: str) -> None:
    for label, value in (("vendor", vendor), ("name", name)):
        if not _NAME.fullmatch(value):
            raise InvalidInputError(f"invalid secret {label} {value!r}", field=label)


def secret_path(tenant: Urn | str, vendor: str, name: str) -> str:
    """The logical path ``nexa/<tenant>/vendor/<vendor>/<name>``."""
    _check(vendor, name)
    return f"nexa/{_tenant_id(tenant)}/vendor/{vendor}/{name}"


def env_var_name(tenant: Urn | str, vendor: str, name: str, *, prefix: str = "NEXA_SECRET") -> str:
    """The environment variable :class:`EnvSecrets` reads for one secret."""
    _check(vendor, name)
    parts = (_tenant_id(tenant), vendor, name)
    return "__".join([prefix, *(re.sub(r"[^A-Z0-9]", "_", p.upper()) for p in parts)])


class Secret:
    """A credential value that refuses to be printed.

    ``str()``, ``repr()`` and f-strings show ``Secret(<redacted>)``; equality compares the
    values in constant time; :meth:`reveal` returns the value for the one place that
    needs it (an Authorization header or an HMAC key).
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The plain value (never log it)."""
        return self._value

    def __repr__(self) -> str:
        return "Secret(<redacted>)"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return repr(self)

    def __eq__(self, other: object) -> bool:
        import hmac

        return isinstance(other, Secret) and hmac.compare_digest(
            self._value.encode(), other._value.encode()
        )

    def __hash__(self) -> int:
        return hash(("Secret", self._value))

    def __reduce__(self) -> Any:
        raise TypeError("secrets cannot be pickled")


class EnvSecrets:
    """Secrets from environment variables (see the module docstring for the mapping)."""

    def __init__(
        self, environ: Mapping[str, str] | None = None, *, prefix: str = "NEXA_SECRET"
    ) -> None:
        self._environ = os.environ if environ is None else environ
        self.prefix = prefix

    def __repr__(self) -> str:
        return f"EnvSecrets(prefix={self.prefix!r})"

    async def get(self, tenant: Urn, vendor: str, name: str) -> str:
        """The value; NotFoundError names the variable, never a value."""
        var = env_var_name(tenant, vendor, name, prefix=self.prefix)
        value = self._environ.get(var)
        if value is None or value == "":
            raise NotFoundError(
                f"secret {secret_path(tenant, vendor, name)} is not set ({var})",
                secret=secret_path(tenant, vendor, name),
            )
        return value


class FileSecrets:
    """Secrets from a directory tree or a TOML file (see the module docstring)."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self._toml: dict[str, Any] | None = None
        if self.root.is_file():
            try:
                self._toml = tomllib.loads(self.root.read_text(encoding="utf-8"))
            except tomllib.TOMLDecodeError:
                # no decoder detail: it could quote the offending value
                raise ConfigurationError(
                    f"secrets file {self.root.name} is not valid TOML"
                ) from None
        elif not self.root.is_dir():
            raise ConfigurationError(f"secrets root {self.root} does not exist")

    def __repr__(self) -> str:
        return f"FileSecrets(root={str(self.root)!r})"

    async def get(self, tenant: Urn, vendor: str, name: str) -> str:
        """The value; NotFoundError when the file or key is missing."""
        path = secret_path(tenant, vendor, name)
        value: object = None
        if self._toml is not None:
            node: object = self._toml
            for part in path.split("/"):
                node = node.get(part) if isinstance(node, dict) else None
            value = node
        else:
            file = self.root.joinpath(*path.split("/"))
            if file.is_file():
                value = file.read_text(encoding="utf-8").strip()
        if not isinstance(value, str) or not value:
            raise NotFoundError(f"secret {path} is not set", secret=path)
        return value
