"""``redis://`` URL handling: Nexa options travel in the query string."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from nexa_core.errors import ConfigurationError

__all__ = ["NEXA_OPTIONS", "parse_redis_url"]

#: Query parameters consumed by Nexa (the rest is passed to redis-py).
NEXA_OPTIONS = frozenset({"prefix", "breaker_threshold", "breaker_cooldown"})
_PREFIX = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def parse_redis_url(url: str, *, default_prefix: str = "nexa") -> tuple[str, str, dict[str, str]]:
    """``(client_url, prefix, other nexa options)`` for a ``redis://`` / ``rediss://`` URL."""
    parts = urlsplit(url)
    if parts.scheme not in {"redis", "rediss"}:
        raise ConfigurationError(f"not a redis URL: {parts.scheme}://…", scheme=parts.scheme)
    query = parse_qsl(parts.query, keep_blank_values=True)
    ours = {k: v for k, v in query if k in NEXA_OPTIONS}
    rest = [(k, v) for k, v in query if k not in NEXA_OPTIONS]
    prefix = ours.pop("prefix", default_prefix)
    if not _PREFIX.fullmatch(prefix):
        raise ConfigurationError(f"invalid redis key prefix {prefix!r}", setting="prefix")
    for name in ("breaker_threshold", "breaker_cooldown"):
        if name in ours:
            try:
                float(ours[name])
            except ValueError:
                raise ConfigurationError(
                    f"{name} must be a number, got {ours[name]!r}", setting=name
                ) from None
    client_url = urlunsplit(parts._replace(query=urlencode(rest)))
    return client_url, prefix, ours
