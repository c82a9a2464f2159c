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
