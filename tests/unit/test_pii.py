from __future__ import annotations

import pytest

from nexa_core.errors import PIIRejectedError
from nexa_core.pii import (
    find_card_numbers,
    luhn_valid,
    mask_card_numbers,
    reject_card_numbers,
    reject_document_fields,
)


@pytest.mark.parametrize(
    "number", ["4111111111111111", "5555 5555 5555 4444", "3782-822463-10005", "6011000990139424"]
)
def test_card_numbers_are_found(number: str) -> None:
    assert find_card_numbers(f"paid with {number} ok") == [number]
    assert "[card]" in mask_card_numbers(f"x {number} y")


@pytest.mark.parametrize(
    "text", ["4111111111111112", "123456789012", "urn:case:c-000001", "+56912345678"]
)
def test_non_cards_are_left_alone(text: str) -> None:
    assert find_card_numbers(text) == []


def test_luhn() -> None:
    assert luhn_valid("79927398713") and not luhn_valid("79927398710")


@pytest.mark.parametrize(
    "key",
    ["passport", "passportNumber", "national_id", "DNI", "document-number", "dateOfBirth", "cvv"],
)
def test_document_fields_are_rejected_at_any_depth(key: str) -> None:
    with pytest.raises(PIIRejectedError) as info:
        reject_document_fields({"groups": [{"passengers": [{"name": "A", key: "X"}]}]})
    assert key in info.value.context["path"]


def test_clean_documents_pass() -> None:
    reject_document_fields({"groups": [{"passengers": [{"name": "A", "email": "a@b.co"}]}]})
    reject_card_numbers({"note": "gate 12, seat 4"})
    with pytest.raises(PIIRejectedError):
        reject_card_numbers({"note": ["fine", {"deep": "4111 1111 1111 1111"}]})
