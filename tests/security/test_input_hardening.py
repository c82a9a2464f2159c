"""Hostile input: typed errors, nothing changed. Hypothesis fuzzes every parser (bounded)."""

from __future__ import annotations

import contextlib
import copy
import json
import re
import string
import unicodedata
from pathlib import Path
from typing import Any

import pytest
import typer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nexa_adapters.documents import parse_manifest
from nexa_adapters.documents.manifest import Manifest
from nexa_adapters.documents.safe_json import LIMITS, InputLimits, load_json, load_yaml
from nexa_adapters.memory import MemoryStore
from nexa_cli._common import handle_errors, read_document
from nexa_core.auth import Principal, PrincipalKind, Role
from nexa_core.errors import (
    InputTooLargeError,
    InvalidInputError,
    InvalidUrnError,
    PIIRejectedError,
)
from nexa_core.model import CaseStatus
from nexa_core.pii import FORBIDDEN_FIELDS, luhn_valid
from nexa_core.ports import AuditQuery
from nexa_core.runtime import FixedClock, SequentialIds
from nexa_core.services.case_access import transition_case
from nexa_core.tenancy import TenantContext
from nexa_core.testing.builders import make_case
from nexa_core.testing.strategies import manifests
from nexa_core.text import (
    UNSAFE_CHARACTERS,
    check_identifier,
    check_text,
    reject_unsafe_text,
    unsafe_character,
)
from nexa_core.urn import Urn

FUZZ = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
HIDDEN = [
    "\u202e",
    "\u200b",
    "\u200d",
    "\ufeff",
    "\u2066",
    "\x00",
    "\x1b",
    "\ud800",
    "\ue000",
    "\U000e0041",
]

# --------------------------------------------------------------------------- the character class


def test_the_unsafe_class_covers_every_control_format_surrogate_and_private_character() -> None:
    planes = [*range(0x0, 0x20000), *range(0xE0000, 0xE1000), 0xF0000, 0xFFFFD, 0x100000, 0x10FFFD]
    for cp in planes:
        c = chr(cp)
        cat = unicodedata.category(c)
        hidden = cat in ("Cf", "Cs", "Co") or (cat == "Cc" and c not in "\t\n\r")
        matched = UNSAFE_CHARACTERS.fullmatch(c) is not None
        assert matched == hidden or (matched and cat == "Cn"), (hex(cp), cat)


@pytest.mark.parametrize("ch", HIDDEN)
def test_hidden_characters_are_refused_in_text_keys_and_nested_values(ch: str) -> None:
    assert unsafe_character(f"ok{ch}") == f"U+{ord(ch):04X}"
    with pytest.raises(InvalidInputError, match="hidden or control"):
        check_text(f"G1{ch}", field="group_id")
    with pytest.raises(InvalidInputError):
        reject_unsafe_text({"a": [{"b": f"x{ch}"}]})
    with pytest.raises(InvalidInputError):
        reject_unsafe_text({f"k{ch}": 1})
    reject_unsafe_text({"name": "José Ñandú 李\tok\n"})


@pytest.mark.parametrize("value", ["ЕV-1", "EV 1", "", "x" * 129, "EV\u00a01", "ＥＶ１"])
def test_identifiers_are_printable_ascii_only(value: str) -> None:
    with pytest.raises(InvalidInputError):
        check_identifier(value, field="external_event_id")
    assert check_identifier("EV-2026/05#1", field="id") == "EV-2026/05#1"


@pytest.mark.parametrize(
    "text",
    [
        "urn:flight:LA٥٠٠@20260505",  # Arabic-Indic digits
        "urn:flight:LA500@２０２６０５０５",  # full-width digits
        "urn:case:с-1",  # Cyrillic es
        "urn:airline:LАN",  # Cyrillic A
        "urn:airport:SCＬ",
        "urn:case:c-1\u200b",
        "urn:case:c\u202e1",
    ],
)
def test_urns_refuse_look_alike_and_hidden_characters(text: str) -> None:
    with pytest.raises(InvalidUrnError):
        Urn.parse(text)


# --------------------------------------------------------------------------- safe JSON / YAML

TINY = InputLimits(
    max_bytes=4096, max_depth=8, max_items=200, max_int_digits=12, max_string_chars=64
)


@pytest.mark.parametrize(
    ("raw", "error", "message"),
    [
        (b'{"a": NaN}', InvalidInputError, "NaN"),
        (b'{"a": Infinity}', InvalidInputError, "Infinity"),
        (b"[-Infinity]", InvalidInputError, "Infinity"),
        (b"[1e400]", InvalidInputError, "out of range"),
        (b"[" + b"9" * 30 + b"]", InvalidInputError, "more than 12 digits"),
        (b'{"a": 1, "a": 2}', InvalidInputError, "repeats a key"),
        (b"[" * 50 + b"]" * 50, InputTooLargeError, "deeper than 8"),
        (b"[" * 200_000, InputTooLargeError, "larger than"),
        (b"[" + b"1," * 300 + b"1]", InputTooLargeError, "more than 200 values"),
        (b'["' + b"x" * 100 + b'"]', InputTooLargeError, "longer than 64"),
        (b'{"a": "\\u202e"}', InvalidInputError, "U+202E"),
        (b'{"\\u200bid": 1}', InvalidInputError, "U+200B"),
        (b'["\\ud800"]', InvalidInputError, "U+D800"),
        (b"\xff\xfe", InvalidInputError, "not UTF-8"),
        (b"\xef\xbb\xbf{}", InvalidInputError, "not valid JSON"),
        (b'{"a": 1', InvalidInputError, "not valid JSON"),
        (b"", InvalidInputError, "not valid JSON"),
    ],
)
def test_hostile_json_is_a_typed_error(raw: bytes, error: type, message: str) -> None:
    with pytest.raises(error, match=re.escape(message)):
        load_json(raw, limits=TINY, what="input")


def test_deep_nesting_beyond_the_interpreter_stack_is_a_typed_error() -> None:
    raw = b"[" * 100_000 + b"]" * 100_000
    with pytest.raises(InputTooLargeError):
        load_json(raw, limits=LIMITS["cli"])


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**11), 10**11)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(
        st.characters(codec="utf-8", exclude_categories=["Cc", "Cf", "Cs", "Co"]), max_size=20
    ),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(string.ascii_letters, max_size=6), inner, max_size=4)
    ),
    max_leaves=30,
)


@FUZZ
@given(json_values)
def test_clean_json_round_trips(value: Any) -> None:
    assert load_json(json.dumps(value), limits=TINY) == value


@FUZZ
@given(st.binary(max_size=400))
def test_arbitrary_bytes_are_a_value_or_a_typed_error(raw: bytes) -> None:
    with contextlib.suppress(InvalidInputError):
        load_json(raw, limits=TINY)


@FUZZ
@given(st.text(max_size=300))
def test_arbitrary_text_as_json_or_yaml_is_a_value_or_a_typed_error(text: str) -> None:
    for loader in (load_json, load_yaml):
        with contextlib.suppress(InvalidInputError):
            loader(text, limits=TINY)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a: &x [1, 2]\nb: *x\n", "aliases"),
        ("a: &a [x]\nb: &b [*a, *a]\nc: [*b, *b]\n", "aliases"),
        ("a: 1\na: 2\n", "repeated"),
        ("a: .nan\n", "finite"),
        ("a: -.inf\n", "finite"),
        ("a: 123456789012345678901234567890\n", "too large"),
        ("- !!python/object/apply:os.system [ls]\n", "not valid YAML"),
        ('a: "\\u202e"\n', "U+202E"),
        ("a: [\n", "not valid YAML"),
    ],
)
def test_hostile_yaml_is_a_typed_error(text: str, message: str) -> None:
    with pytest.raises(InvalidInputError, match=re.escape(message)):
        load_yaml(text, limits=TINY)


# --------------------------------------------------------------------------- CLI files


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("m.json", b'{"a": NaN}'),
        ("m.json", b'{"a": 1, "a": 1}'),
        ("m.json", b"[" * 10_000 + b"]" * 10_000),
        ("m.yaml", b"a: &x 1\nb: *x\n"),
        ("m.yml", b"a: 1\na: 1\n"),
        ("m.json", '{"id": "EV\u202e1"}'.encode()),
    ],
)
def test_cli_files_are_read_safely_and_exit_with_code_2(
    tmp_path: Path, name: str, content: bytes
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(InvalidInputError):
        read_document(str(path))
    with pytest.raises(typer.Exit) as info:
        handle_errors(read_document)(str(path))
    assert info.value.exit_code == 2


def test_cli_files_honour_the_per_kind_size_limit(tmp_path: Path) -> None:
    path = tmp_path / "hook.json"
    path.write_bytes(b'{"a": "' + b"x" * (LIMITS["webhook"].max_bytes) + b'"}')
    with pytest.raises(InputTooLargeError):
        read_document(str(path), kind="webhook")
    good = tmp_path / "ok.yaml"
    good.write_text("a: [1, 2]\nb: {c: d}\n", encoding="utf-8")
    assert read_document(str(good)) == {"a": [1, 2], "b": {"c": "d"}}


# --------------------------------------------------------------------------- manifests

hostile_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(),
    st.text(max_size=30),
    st.sampled_from([f"EV{h}1" for h in HIDDEN] + ["ЕV-1", "urn:passenger:р-1", "x" * 600]),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
)


def _paths(doc: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(doc, dict):
        for k, v in doc.items():
            out.extend(_paths(v, (*prefix, k)))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            out.extend(_paths(v, (*prefix, i)))
    return out


def _set(doc: Any, path: tuple[Any, ...], value: Any) -> None:
    for p in path[:-1]:
        doc = doc[p]
    doc[path[-1]] = value


@FUZZ
@given(manifests(max_groups=3, max_group_size=3), st.data())
def test_a_mutated_manifest_parses_or_fails_with_a_typed_error_and_is_not_changed(
    doc: dict[str, Any], data: st.DataObject
) -> None:
    path = data.draw(st.sampled_from(_paths(doc)))
    _set(doc, path, data.draw(hostile_values))
    before = copy.deepcopy(doc)
    try:
        result = parse_manifest(doc)
    except InvalidInputError:
        pass
    else:
        assert isinstance(result, Manifest)
    assert doc == before  # the input is never mutated


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("external_event_id",), "ЕV-1"),
        (("external_event_id",), "EV\u200b1"),
        (("groups", 0, "passengers", 0, "name"), "Ana\u202egnp.exe"),
        (("groups", 0, "passengers", 0, "urn"), "urn:passenger:р-1"),
        (("groups", 0, "passengers"), 5),
        (("groups", 0), "G1"),
        (("flight", "urn"), "urn:flight:LA٥٠٠@20260505"),
        (("flight", "status"), "CANCELLED\u0000"),
        (("groups", 0, "passengers", 0, "email"), 42),
    ],
)
def test_specific_manifest_tricks_are_refused(path: tuple[Any, ...], value: Any) -> None:
    doc = _base_manifest()
    _set(doc, path, value)
    with pytest.raises(InvalidInputError):
        parse_manifest(doc)


def _spellings(field: str) -> st.SearchStrategy[str]:
    """Variants of a forbidden field name: case and separators."""
    return st.lists(
        st.sampled_from(["", "_", "-", " ", "."]), min_size=len(field), max_size=len(field)
    ).flatmap(
        lambda seps: st.lists(st.booleans(), min_size=len(field), max_size=len(field)).map(
            lambda ups: "".join(
                (c.upper() if u else c) + s for c, u, s in zip(field, ups, seps, strict=True)
            )
        )
    )


@FUZZ
@given(
    manifests(max_groups=2, max_group_size=2),
    st.sampled_from(sorted(FORBIDDEN_FIELDS)).flatmap(_spellings),
    st.data(),
)
def test_document_fields_are_refused_in_any_spelling_and_place(
    doc: dict[str, Any], key: str, data: st.DataObject
) -> None:
    holders = [p for p in _paths(doc) if isinstance(_get(doc, p), dict)] + [()]
    where = data.draw(st.sampled_from(holders))
    target = _get(doc, where) if where else doc
    target[key] = data.draw(st.sampled_from(["X1234567", 123456789, {"number": "X1"}]))
    with pytest.raises(PIIRejectedError) as info:
        parse_manifest(doc)
    assert "X1234567" not in str(info.value)


def _get(doc: Any, path: tuple[Any, ...]) -> Any:
    for p in path:
        doc = doc[p]
    return doc


def _luhn_complete(body: str) -> str:
    return next(body + d for d in string.digits if luhn_valid(body + d))


card_numbers = st.integers(12, 18).flatmap(
    lambda n: st.text(string.digits, min_size=n, max_size=n).map(_luhn_complete)
)


@FUZZ
@given(manifests(max_groups=2, max_group_size=2), card_numbers, st.data())
def test_card_numbers_anywhere_in_a_manifest_are_refused(
    doc: dict[str, Any], card: str, data: st.DataObject
) -> None:
    strings = [p for p in _paths(doc) if isinstance(_get(doc, p), str)]
    path = data.draw(st.sampled_from(strings))
    _set(doc, path, f"{_get(doc, path)} {card}")
    with pytest.raises(PIIRejectedError) as info:
        parse_manifest(doc)
    assert card not in str(info.value)


def _base_manifest() -> dict[str, Any]:
    return {
        "airline": "urn:airline:LAN",
        "external_event_id": "EV-1",
        "airport": "SCL",
        "flight": {
            "urn": "urn:flight:LA500@20260505",
            "destination": "EZE",
            "scheduled_departure": "2026-05-05T18:00:00-04:00",
        },
        "disrupted_at": "2026-05-05T17:00:00-04:00",
        "groups": [
            {
                "group_id": "G1",
                "pnr": "urn:pnr:XYZ123:vendor:amadeus",
                "passengers": [
                    {"urn": "urn:passenger:p-1", "email": "ana@example.com", "cabin": "ECONOMY"}
                ],
            }
        ],
    }


def test_the_base_manifest_is_valid() -> None:
    assert parse_manifest(_base_manifest()).passengers == 1


# --------------------------------------------------------------------------- services


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("reason", "error"),
    [
        ("", InvalidInputError),
        ("   ", InvalidInputError),
        ("refund to 4111 1111 1111 1111", PIIRejectedError),
    ],
)
async def test_a_bad_reason_changes_nothing(reason: str, error: type) -> None:
    clock = FixedClock()
    store = MemoryStore(clock=clock.now)
    lan = TenantContext.system("urn:airline:LAN")
    await store.cases.add(lan, make_case("c-1"))
    admin = Principal(PrincipalKind.OPERATOR, Urn("user", "u-1"), lan.airline_urn, {Role.ADMIN})
    with pytest.raises(error):
        await transition_case(
            store,
            clock,
            SequentialIds(),
            Urn("case", "c-1"),
            CaseStatus.ALLOCATING,
            reason,
            principal=admin,
        )
    case = await store.cases.get(lan, Urn("case", "c-1"))
    assert case.status is CaseStatus.OPEN and case.version == 1
    assert await store.audit.query(lan, AuditQuery()) == []
    assert await store.outbox.read_after(0) == []


# --------------------------------------------------------------------------- policies

POLICY_FILES = sorted(
    (Path(__file__).resolve().parents[2] / "examples" / "policies").glob("*.yaml")
)


@pytest.mark.parametrize("path", POLICY_FILES, ids=lambda p: p.name)
def test_the_example_policies_load_through_the_safe_loader(path: Path) -> None:
    from nexa_adapters.documents.policy import parse_policies

    assert parse_policies(read_document(str(path), kind="policy"))


@FUZZ
@given(st.sampled_from(POLICY_FILES), st.data())
def test_a_mutated_policy_parses_or_fails_with_a_typed_error(
    path: Path, data: st.DataObject
) -> None:
    from nexa_adapters.documents.policy import parse_policies

    doc = load_yaml(path.read_bytes(), limits=LIMITS["policy"])
    target = data.draw(st.sampled_from(_paths(doc)))
    _set(doc, target, data.draw(hostile_values))
    before = copy.deepcopy(doc)
    with contextlib.suppress(InvalidInputError):
        parse_policies(doc)
    assert doc == before
