"""Built-in ``secrets`` plugin: the ``env`` and ``file`` secrets providers.

``file`` takes ``secrets_path`` from the factory options or ``NEXA_SECRETS_PATH``.
"""

from __future__ import annotations

import os
from typing import Any

from nexa_adapters.hookspecs import Register, hookimpl
from nexa_adapters.secrets.providers import EnvSecrets, FileSecrets
from nexa_core.errors import ConfigurationError


def _file(**options: Any) -> FileSecrets:
    path = options.get("secrets_path") or os.environ.get("NEXA_SECRETS_PATH")
    if not path:
        raise ConfigurationError("the file secrets provider needs NEXA_SECRETS_PATH")
    return FileSecrets(path)


@hookimpl
def nexa_register_secrets_providers(register: Register) -> None:
    """Environment variables and files."""
    register("env", lambda **o: EnvSecrets(o.get("environ")))
    register("file", _file)
