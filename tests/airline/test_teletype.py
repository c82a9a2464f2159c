"""PNL/ADL teletype lists: golden files (RP 1708 element structure), the ADL round trip,
document data refused whole, malformed lines reported by number."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nexa_adapters.airline import (
    ListedPassenger,
    PassengerList,
    TeletypeAirline,
    apply_adl,
    groups_from_list,
    parse_teletype,
)
from nexa_core.errors import InvalidInputError, NotFoundError, PIIRejectedError
from nexa_core.model import PassengerType, SpecialNeed, Tier
from nexa_core.runtime import FixedClock
from nexa_core.urn import Urn
from tests.airline.writer import write_adl, write_pnl

DATA = Path(__file__).parent / "data"
REF = date(2026, 5, 4)
LAN = Urn("airline", "LAN")


def _read(name: str) -> str:
    return (DATA / name).read_text(encoding="ascii")


def _view(plist: PassengerList) -> list[tuple[object, ...]]:
    return sorted(
        (
            p.pnr,
            p.surname,
            p.given,
            p.title,
            p.type.value,
            p.cabin.value,
            p.booking_class,
            tuple(sorted(n.value for n in p.special_needs)),
            p.email,
            p.phone,
            p.language,
            p.loyalty_tier,
        )
        for p in plist.passengers
    )


def test_the_golden_pnl_parses_into_pnr_groups_with_tiers_and_ssrs() -> None:
    pnl = parse_teletype(_read("LA500_SCL.pnl"), reference=REF)
    assert (pnl.kind, pnl.flight_id, pnl.board_point, pnl.parts) == (
        "PNL",
        "LA500@20260505",
        "SCL",
        (1, 2),
    )
    assert _view(pnl) == [
        ("ABC456", "ROJAS", "BEBE", None, "INF", "ECONOMY", "Y", (), None, None, None, None),
        ("ABC456", "ROJAS", "MARIA", "MRS", "ADT", "ECONOMY", "Y", (), None, None, None, None),
        ("ABC456", "ROJAS", "PEDRO", "MR", "ADT", "ECONOMY", "Y", (), "p_rojas@example.cl",
         "+56912345678", "es", None),
        ("DEF789", "COSTA", "JOAO", "MSTR", "CHD", "ECONOMY", "Y", ("UMNR",),
         "familia.costa@example.com.br", None, "pt", None),
        ("GHI012", "TORRES", "ELENA", "MS", "ADT", "ECONOMY", "Y", (), "e-torres@example.org",
         None, "en", None),
        ("JKL345", "MUNOZ", "DIEGO", "MR", "ADT", "ECONOMY", "Y", ("BLND",), "diego@example.cl",
         None, None, None),
        ("XYZ123", "SILVA", "ANA", "MRS", "ADT", "BUSINESS", "J", ("WCHR",),
         "ana.silva@example.com", None, "es", "GOLD"),
        ("XYZ123", "SILVA", "LUIS", "MR", "ADT", "BUSINESS", "J", (), None, None, None, None),
    ]  # fmt: skip
    torres = next(p for p in pnl.passengers if p.surname == "TORRES")
    assert torres.group_name == "ANDES TOURS"
    assert torres.ssr_codes == ("CTCE", "VGML")


def test_pnr_groups_share_the_pnr_contact_and_have_stable_name_free_urns() -> None:
    pnl = parse_teletype(_read("LA500_SCL.pnl"), reference=REF)
    groups = {
        g.group_id: g for g in groups_from_list(pnl, pnr_vendor="amadeus", passenger_vendor="lan")
    }
    rojas = groups["ABC456"]
    assert str(rojas.pnr_urn) == "urn:pnr:ABC456:vendor:amadeus"
    assert [p.type for p in rojas.passengers] == [
        PassengerType.ADT,
        PassengerType.ADT,
        PassengerType.INF,
    ]
    assert {p.contact.email for p in rojas.passengers} == {"p_rojas@example.cl"}
    assert groups["XYZ123"].tier is Tier.BUSINESS
    assert SpecialNeed.WCHR in groups["XYZ123"].passengers[0].special_needs
    for g in groups.values():
        for p in g.passengers:
            assert p.urn.vendor == "lan"
            assert g.passengers[0].contact.name.split()[-1].upper() not in str(p.urn).upper()
    again = groups_from_list(
        parse_teletype(_read("LA500_SCL.pnl"), reference=REF),
        pnr_vendor="amadeus",
        passenger_vendor="lan",
    )
    assert [p.urn for g in again for p in g.passengers] == [
        p.urn for g in groups.values() for p in g.passengers
    ]


def test_the_golden_adl_applied_to_the_pnl_gives_the_final_list() -> None:
    pnl = parse_teletype(_read("LA500_SCL.pnl"), reference=REF)
    adl = parse_teletype(_read("LA500_SCL_1.adl"), reference=REF)
    assert [p.surname for p in adl.deleted] == ["SILVA"]
    assert [p.surname for p in adl.added] == ["PEREZ"]
    assert [p.surname for p in adl.changed] == ["MUNOZ"]
    final = parse_teletype(_read("LA500_SCL_final.pnl"), reference=REF)
    assert _view(apply_adl(pnl, adl)) == _view(final)


def test_document_ssrs_reject_the_whole_message_naming_lines_not_content() -> None:
    text = _read("LA500_SCL.pnl").replace(
        ".R/WCHR HK1", ".R/WCHR HK1\n.R/DOCS HK1/P/CHL/P1234567/CHL/01JAN80/F/01JAN30/SILVA/ANA"
    )
    with pytest.raises(PIIRejectedError) as err:
        parse_teletype(text, reference=REF)
    assert err.value.context["lines"] == [14]
    assert "P1234567" not in str(err.value)
    airline = TeletypeAirline(clock=FixedClock())
    with pytest.raises(PIIRejectedError):
        airline.receive(LAN, text)
    with pytest.raises(NotFoundError):
        airline.passenger_list(LAN, Urn("flight", "LA500@20260505"))  # nothing was kept


@pytest.mark.parametrize("code", ["DOCO", "DOCA", "FOID", "PSPT"])
def test_every_document_ssr_is_refused(code: str) -> None:
    text = f"PNL\nLA500/05MAY SCL\n-EZE001Y\n1SILVA/ANAMRS\n.L/XYZ123\n.R/{code} HK1 X\nENDPNL\n"
    with pytest.raises(PIIRejectedError):
        parse_teletype(text, reference=REF)


def test_a_card_number_anywhere_refuses_the_list() -> None:
    text = "PNL\nLA500/05MAY SCL\n-EZE001Y\n1SILVA/ANAMRS\n.L/XYZ123\n.R/OTHS HK1 4111 1111 1111 1111\nENDPNL\n"
    with pytest.raises(PIIRejectedError) as err:
        parse_teletype(text, reference=REF)
    assert "4111" not in str(err.value)


def test_malformed_lines_are_all_reported_with_their_numbers_and_nothing_is_kept() -> None:
    text = (
        "PNL\nLA500/05MAY SCL\n-EZE001Y\n1SILVA\n.L/XYZ123\n-EZEX\n2ROJAS/ANAMRS\n"
        "1OK/ANAMRS\n.L/AB\n.Q/WHAT\nENDPNL\n"
    )
    airline = TeletypeAirline(clock=FixedClock())
    with pytest.raises(InvalidInputError) as err:
        airline.receive(LAN, text)
    assert err.value.context["problems"] == [
        "line 4: unrecognised element '1SILVA'",
        "line 5: remark before any name element",
        "line 6: totals element '-EZEX' is not -<destination><3-digit count><class>",
        "line 7: name element says 2 passenger(s) but names 1",
        "line 9: PNR address 'AB' is not 5-8 letters or digits",
        "line 10: unknown remark element .Q/",
        "line 8: OK/ANA has no PNR address (.L/)",
    ]
    with pytest.raises(NotFoundError):
        airline.passenger_list(LAN, Urn("flight", "LA500@20260505"))


def test_an_adl_for_a_passenger_not_listed_is_an_error() -> None:
    pnl = parse_teletype(write_pnl("LA500/05MAY SCL", []), reference=REF)
    ghost = ListedPassenger("ZZZ999", "GHOST", "CASPER", "MR", "EZE", "Y", Tier.ECONOMY)
    adl = parse_teletype(write_adl("LA500/05MAY SCL", deleted=[ghost]), reference=REF)
    with pytest.raises(InvalidInputError, match="line 6: DEL of GHOST/CASPER"):
        apply_adl(pnl, adl)


def test_an_adl_before_its_pnl_or_for_another_flight_is_refused() -> None:
    airline = TeletypeAirline(clock=FixedClock())
    with pytest.raises(InvalidInputError, match="before its PNL"):
        airline.receive(LAN, _read("LA500_SCL_1.adl"))
    pnl = parse_teletype(_read("LA500_SCL.pnl"), reference=REF)
    other = parse_teletype(write_adl("LA501/05MAY SCL"), reference=REF)
    with pytest.raises(InvalidInputError, match="LA501"):
        apply_adl(pnl, other)


def test_the_airline_reads_an_inbox_applies_adls_in_order_and_caches_in_memory_only(
    tmp_path: Path,
) -> None:
    (tmp_path / "0001.pnl").write_text(_read("LA500_SCL.pnl"))
    (tmp_path / "0002.adl").write_text(_read("LA500_SCL_1.adl"))

    clock = FixedClock(datetime(2026, 5, 5, 12, 0, tzinfo=UTC))
    airline = TeletypeAirline(tmp_path, clock=clock)
    flight = Urn("flight", "LA500@20260505", "aeroapi")
    final = parse_teletype(_read("LA500_SCL_final.pnl"), reference=REF)
    assert _view(airline.passenger_list(LAN, flight)) == _view(final)
    (tmp_path / "0001.pnl").unlink()
    (tmp_path / "0002.adl").unlink()
    assert _view(airline.passenger_list(LAN, flight)) == _view(final)  # the cache answers
    clock.advance(timedelta(hours=7))  # past the 6 h TTL: the cache forgets, the inbox is empty
    with pytest.raises(NotFoundError):
        airline.passenger_list(LAN, flight)
    assert list(tmp_path.iterdir()) == []  # Nexa never wrote anything


def test_a_pnr_without_any_email_is_a_line_numbered_error() -> None:
    text = "PNL\nLA500/05MAY SCL\n-EZE001Y\n1SILVA/ANAMRS\n.L/XYZ123\nENDPNL\n"
    with pytest.raises(InvalidInputError, match="line 4: PNR XYZ123 has no CTCE email"):
        groups_from_list(parse_teletype(text, reference=REF), pnr_vendor="x", passenger_vendor="y")


# ----------------------------------------------------------------- property: ADL ∘ PNL = final

_NAMES = st.text(alphabet="ABCDEFGHIJKLMNOPRSTUVWXYZ", min_size=2, max_size=8)
_PASSENGER = st.builds(
    ListedPassenger,
    pnr=st.text(alphabet="ABCDEFGHJKLMNPQRSTUVWXYZ0123456789", min_size=6, max_size=6),
    surname=_NAMES,
    given=_NAMES,
    title=st.sampled_from(["MR", "MRS", "MS"]),
    destination=st.sampled_from(["EZE", "LIM"]),
    booking_class=st.sampled_from(["J", "Y", "B"]),
    cabin=st.just(Tier.ECONOMY),
    special_needs=st.frozensets(st.sampled_from([SpecialNeed.WCHR, SpecialNeed.BLND]), max_size=2),
    email=st.sampled_from([None, "a@example.com", "b.c@example.org"]),
    loyalty_tier=st.sampled_from([None, "GOLD", "BLACK"]),
)


def _unique(items: list[ListedPassenger]) -> list[ListedPassenger]:
    seen: dict[tuple[str, ...], ListedPassenger] = {}
    for p in items:
        seen.setdefault(p.key, p)
    return list(seen.values())


@settings(max_examples=60, deadline=None)
@given(
    before=st.lists(_PASSENGER, max_size=12).map(_unique),
    extra=st.lists(_PASSENGER, max_size=6).map(_unique),
    data=st.data(),
)
def test_applying_an_adl_to_a_pnl_equals_the_final_list(
    before: list[ListedPassenger], extra: list[ListedPassenger], data: st.DataObject
) -> None:
    flight = "LA500/05MAY SCL"
    keys = {p.key for p in before}
    added = [p for p in extra if p.key not in keys]
    kept = data.draw(
        st.lists(st.sampled_from(before), unique_by=lambda p: p.key) if before else st.just([])
    )
    deleted = [p for p in before if p.key not in {k.key for k in kept}]
    flips = data.draw(st.lists(st.booleans(), min_size=len(kept), max_size=len(kept)))
    changed = [
        attrs.evolve(p, loyalty_tier="PLATINUM", special_needs=frozenset({SpecialNeed.DEAF}))
        for p, flip in zip(kept, flips, strict=True)
        if flip
    ]
    by_key = {c.key: c for c in changed}
    final = [by_key.get(p.key, p) for p in kept] + added
    pnl = parse_teletype(write_pnl(flight, before), reference=REF)
    adl = parse_teletype(
        write_adl(flight, added=added, deleted=deleted, changed=changed), reference=REF
    )
    expected = parse_teletype(write_pnl(flight, final), reference=REF)
    assert _view(apply_adl(pnl, adl)) == _view(expected)
