"""Random ids never look like card numbers (the stores' PII guard would reject them)."""

from __future__ import annotations

import uuid

import pytest

from nexa_core.pii import find_card_numbers
from nexa_core.runtime import UuidIds


def test_an_id_with_a_card_like_digit_run_is_drawn_again(monkeypatch: pytest.MonkeyPatch) -> None:
    card_like = uuid.UUID("4111111111111111" + "abcdefabcdefabcd")
    assert find_card_numbers(f"e-{card_like.hex}")
    values = iter([card_like, uuid.UUID(int=0xABCDEF)])
    monkeypatch.setattr(uuid, "uuid4", lambda: next(values))
    urn = UuidIds().new("event")
    assert urn.id == f"e-{uuid.UUID(int=0xABCDEF).hex}"


def test_idempotency_keys_never_look_like_card_numbers() -> None:
    from nexa_core.idempotency import idempotency_key

    keys = [
        idempotency_key("booking", "urn:case:c-1", "urn:wave:w-1", f"G{i}") for i in range(3000)
    ]
    assert not [k for k in keys if find_card_numbers(k)]
    assert len(set(keys)) == len(keys)
