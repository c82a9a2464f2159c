"""Secrets providers (environment and files) and the redacting :class:`Secret` wrapper."""

from nexa_adapters.secrets.providers import (
    EnvSecrets,
    FileSecrets,
    Secret,
    env_var_name,
    secret_path,
)

__all__ = ["EnvSecrets", "FileSecrets", "Secret", "env_var_name", "secret_path"]
