from __future__ import annotations

import inspect

import pytest

import nexa_core.errors as errors
from nexa_core.errors import (
    ConcurrencyError,
    NexaError,
    ProviderRejectedError,
    ProviderUnavailableError,
    RateLimitedError,
)

ALL = [getattr(errors, n) for n in errors.__all__]


def test_every_error_derives_from_nexa_error_and_is_drawn_in_the_docstring() -> None:
    doc = errors.__doc__ or ""
    for cls in ALL:
        assert issubclass(cls, NexaError)
        assert cls.__name__ in doc, f"{cls.__name__} missing from the tree drawing"


def test_context_is_keyword_only() -> None:
    for cls in ALL:
        params = inspect.signature(cls.__init__).parameters
        kinds = [p.kind for n, p in params.items() if n not in ("self", "message")]
        assert inspect.Parameter.POSITIONAL_OR_KEYWORD not in kinds, cls
    with pytest.raises(TypeError):
        NexaError("m", "positional-context")  # type: ignore[misc]


def test_retryable_defaults_and_override() -> None:
    assert ConcurrencyError("x").retryable
    assert ProviderUnavailableError("x").retryable
    assert not ProviderRejectedError("x").retryable
    assert not ProviderUnavailableError("x", retryable=False).retryable
    err = RateLimitedError("slow down", retry_after=2.5, vendor="hotelbeds")
    assert err.retryable and err.retry_after == 2.5 and err.context["vendor"] == "hotelbeds"
    assert err.to_dict()["type"] == "RateLimitedError"
    assert "vendor='hotelbeds'" in repr(err)


def test_error_codes_are_unique() -> None:
    codes = [c.code for c in ALL]
    assert len(codes) == len(set(codes))
