"""IATA PNL/ADL teletype passenger lists (the structure of Recommended Practice 1708).

A PNL (Passenger Name List) lists one flight's passengers at one board point; an ADL
(Additions and Deletions List) carries the changes since the PNL or the previous ADL.
Elements read, line by line:

* address and communications-reference lines before the message identifier (skipped);
* message identifier ``PNL`` / ``ADL``;
* flight element ``LA500/05MAY SCL PART1`` (flight, day+month, board point, part);
* ``CFG/…``, ``AVAIL`` and its indented lines (ignored), ``RBD J/JCD Y/YBMK`` (booking
  class → cabin; without it F/A/P are FIRST, J/C/D/I/Z BUSINESS, W/E PREMIUM_ECONOMY);
* totals by destination ``-EZE012Y`` (destination, count, class of the names below);
* ADL action headers ``ADD``, ``DEL``, ``CHG``;
* name elements ``2SILVA/ANAMRS/LUISMR`` (count, surname, given names with titles);
* remarks on the names above: ``.L/<PNR address>``, ``.R/<SSR> HK1 <text>[-1SURNAME/GIVEN]``
  (``.RN/`` continues it), ``.C/`` group name, ``.I/`` ``.O/`` ``.O2/`` connections,
  ``.W/`` ``.N/`` ``.M/`` ``.G/`` ``.F/`` (kept out);
* end element ``ENDPNL`` / ``ENDADL`` / ``ENDPART<n>``.

SSRs used: special needs (``WCHR``, ``WCHS``, ``WCHC``, ``BLND``, ``DEAF``, ``DPNA``,
``MEDA``, ``PREG``, ``UMNR``), ``CTCE``/``CTCM`` contacts (teletype encoding: ``//`` is
``@``, ``..`` is ``_``, ``./`` is ``-``; an optional trailing ``/<language>``), ``INFT``
(an infant travelling on the adult's lap: it becomes an INF passenger of the PNR, its date
of birth is never read), ``CHLD`` (the passenger is a child), ``FQTV`` (only the tier word
at its end, e.g. ``GOLD``); every other code is listed in ``ssr_codes`` and otherwise left.

Document data is refused, whole message: a ``DOCS``/``DOCO``/``DOCA``/``FOID``/``PSPT``
SSR (API passport, visa, address and form-of-id data) or a card-like number raises
:class:`PIIRejectedError` naming only the line numbers, and nothing of the message is kept
— the airline configures its PNL feed without API data (Nexa never holds documents, and a
silently stripped list would hide that the feed is misconfigured). Malformed lines raise
:class:`InvalidInputError` whose ``problems`` list every bad line as ``line N: …``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date

import attrs

from nexa_core.errors import InvalidInputError, PIIRejectedError
from nexa_core.model import PassengerType, SpecialNeed, Tier
from nexa_core.pii import find_card_numbers

__all__ = [
    "DOCUMENT_SSRS",
    "ListedPassenger",
    "PassengerList",
    "apply_adl",
    "parse_teletype",
]

#: SSR codes that carry travel-document or identity data (never accepted)
DOCUMENT_SSRS = frozenset({"DOCS", "DOCO", "DOCA", "FOID", "PSPT"})

_MONTHS = {
    m: i
    for i, m in enumerate(
        ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"), 1
    )
}
_FLIGHT = re.compile(
    r"(?P<carrier>[A-Z0-9]{2}[A-Z]?)(?P<number>[0-9]{1,4}[A-Z]?)/(?P<day>[0-9]{2})"
    r"(?P<month>[A-Z]{3})(?P<year>[0-9]{2})? (?P<board>[A-Z]{3})(?: PART(?P<part>[0-9]{1,2}))?"
)
_TOTALS = re.compile(r"-(?P<dest>[A-Z]{3})(?P<count>[0-9]{3})(?P<cls>[A-Z])")
_NAME = re.compile(r"(?P<count>[0-9]{1,3})(?P<surname>[A-Z][A-Z' -]*?)/(?P<given>[A-Z/ ]+)")
_REMARK = re.compile(r"\.(?P<tag>[A-Z]{1,2}[0-9]?)/(?P<text>.*)")
_SSR = re.compile(
    r"(?P<code>[A-Z]{4})(?: (?P<status>[A-Z]{2})(?P<count>[0-9]{1,3}))?(?P<text>.*?)"
    r"(?:-(?P<assoc>[0-9]{1,3}[A-Z][A-Z' -]*/[A-Z ]+))?"
)
_END = re.compile(r"END(?:PNL|ADL|PART[0-9]{1,2})")
_TITLES = ("MSTR", "MISS", "MRS", "CHD", "MR", "MS", "DR")
_CHILD_TITLES = frozenset({"MSTR", "MISS", "CHD"})
_IGNORED_TAGS = frozenset({"C", "I", "O", "O2", "O3", "W", "N", "M", "G", "F", "WL"})
_DEFAULT_CABINS = {
    **dict.fromkeys("FAP", Tier.FIRST),
    **dict.fromkeys("JCDIZR", Tier.BUSINESS),
    **dict.fromkeys("WE", Tier.PREMIUM_ECONOMY),
}
_CABIN_LETTERS = {
    "F": Tier.FIRST,
    "A": Tier.FIRST,
    "P": Tier.FIRST,
    "J": Tier.BUSINESS,
    "C": Tier.BUSINESS,
    "W": Tier.PREMIUM_ECONOMY,
    "Y": Tier.ECONOMY,
    "M": Tier.ECONOMY,
}
_NEEDS = frozenset(n.value for n in SpecialNeed)


@attrs.frozen
class ListedPassenger:
    """One passenger of a passenger list (no document data by construction)."""

    pnr: str
    surname: str
    given: str
    title: str | None
    destination: str
    booking_class: str
    cabin: Tier
    type: PassengerType = PassengerType.ADT
    special_needs: frozenset[SpecialNeed] = frozenset()
    ssr_codes: tuple[str, ...] = ()
    email: str | None = None
    phone: str | None = None
    language: str | None = None
    loyalty_tier: str | None = None
    group_name: str | None = None
    line: int = attrs.field(default=0, eq=False)

    @property
    def key(self) -> tuple[str, str, str, str]:
        """Identity within a list: PNR, surname, given name, title (or INF for infants)."""
        return (self.pnr, self.surname, self.given, self.title or self.type.value)

    @property
    def display_name(self) -> str:
        """``Ana Silva``."""
        return f"{self.given.title()} {self.surname.title()}".strip()


@attrs.frozen
class PassengerList:
    """A parsed PNL (``passengers``) or ADL (``added``, ``deleted``, ``changed``)."""

    kind: str  # PNL | ADL
    carrier: str
    number: str
    flight_date: date
    board_point: str
    parts: tuple[int, ...] = ()
    passengers: tuple[ListedPassenger, ...] = ()
    added: tuple[ListedPassenger, ...] = ()
    deleted: tuple[ListedPassenger, ...] = ()
    changed: tuple[ListedPassenger, ...] = ()

    @property
    def flight_id(self) -> str:
        """``LA500@20260505`` (the id of the flight URN)."""
        return f"{self.carrier}{self.number}@{self.flight_date:%Y%m%d}"


def _decode_contact(text: str) -> tuple[str, str | None]:
    s = text.strip().lstrip("/").replace("//", "@").replace("./", "-").replace("..", "_")
    parts = [p for p in s.split("/") if p]
    value = parts[0] if parts else ""
    lang = parts[1].lower() if len(parts) > 1 and re.fullmatch(r"[A-Z]{2}", parts[1]) else None
    return value, lang


def _split_title(given: str) -> tuple[str, str | None]:
    g = given.strip()
    for t in _TITLES:
        if g.endswith(" " + t):
            return g[: -len(t) - 1].strip(), t
    for t in _TITLES:
        if g.endswith(t) and len(g) > len(t):
            return g[: -len(t)], t
    return g, None


def _year_for(day: int, month: int, reference: date) -> date:
    """The date with that day and month nearest to ``reference`` (lists omit the year)."""
    best: date | None = None
    for year in (reference.year - 1, reference.year, reference.year + 1):
        try:
            d = date(year, month, day)
        except ValueError:
            continue
        if best is None or abs((d - reference).days) < abs((best - reference).days):
            best = d
    if best is None:
        raise ValueError("no such date")
    return best


@attrs.define(eq=False)
class _Pax:
    surname: str
    given: str
    title: str | None
    dest: str
    cls: str
    line: int
    type: PassengerType = PassengerType.ADT
    pnr: str | None = None
    needs: set[SpecialNeed] = attrs.field(factory=set)
    codes: list[str] = attrs.field(factory=list)
    email: str | None = None
    phone: str | None = None
    language: str | None = None
    loyalty: str | None = None
    group: str | None = None
    infant_of: _Pax | None = None


def _cabin(cls: str, rbd: dict[str, Tier]) -> Tier:
    if cls in rbd:
        return rbd[cls]
    return _DEFAULT_CABINS.get(cls, Tier.ECONOMY)


def parse_teletype(text: str, *, reference: date) -> PassengerList:
    """Parse one PNL or ADL (one or more parts of the same flight, in order).

    ``reference`` resolves the year the flight element omits (the nearest one).
    Raises :class:`PIIRejectedError` (document SSRs or card numbers: the whole message is
    refused) or :class:`InvalidInputError` with every malformed line in ``problems``.
    """
    if len(text) > 5_000_000:
        raise InvalidInputError("the passenger list is larger than 5 MB", field="text")
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    problems: list[str] = []
    pii_lines: list[int] = []
    kind: str | None = None
    flight: tuple[str, str, date, str] | None = None
    parts: list[int] = []
    rbd: dict[str, Tier] = {}
    dest: str | None = None
    cls: str | None = None
    section = "PNL"
    sections: dict[str, list[_Pax]] = {"PNL": [], "ADD": [], "DEL": [], "CHG": []}
    element: list[_Pax] = []  # the passengers of the last name element
    last_ssr: tuple[str, list[_Pax]] | None = None
    in_avail = False
    ended = False

    def bad(n: int, message: str) -> None:
        problems.append(f"line {n}: {message}")

    for n, raw in enumerate(lines, 1):
        line = raw.rstrip()
        if not line.strip():
            continue
        if find_card_numbers(line):
            pii_lines.append(n)
            continue
        if kind is None:
            if line.strip() in ("PNL", "ADL"):
                kind = line.strip()
                section = "PNL" if kind == "PNL" else "ADD"
            continue  # address and communications-reference elements
        if flight is None or (ended and _FLIGHT.fullmatch(line.strip())):
            m = _FLIGHT.fullmatch(line.strip())
            if m is None:
                bad(n, f"expected the flight element (e.g. LA500/05MAY SCL PART1), got {line!r}")
                break
            month = _MONTHS.get(m["month"])
            try:
                if month is None:
                    raise ValueError(m["month"])
                when = (
                    date(2000 + int(m["year"]), month, int(m["day"]))
                    if m["year"]
                    else _year_for(int(m["day"]), month, reference)
                )
            except ValueError:
                bad(n, f"flight element has an invalid date {m['day']}{m['month']}")
                break
            this = (m["carrier"], m["number"], when, m["board"])
            if flight is not None and this != flight:
                bad(n, f"part for another flight {line.strip()!r}")
                break
            flight = this
            parts.append(int(m["part"] or 1))
            ended = False
            continue
        if ended:
            continue  # the next part's address, reference and identifier lines
        stripped = line.strip()
        if _END.fullmatch(stripped):
            ended = True
            element, last_ssr, in_avail = [], None, False
            continue
        if stripped.startswith("CFG/") or stripped in ("NIL",):
            continue
        if stripped == "AVAIL":
            in_avail = True
            continue
        if in_avail and line.startswith(" "):
            continue
        in_avail = False
        if stripped.startswith("RBD "):
            for chunk in stripped[4:].split():
                cabin_letter, _, classes = chunk.partition("/")
                tier = _CABIN_LETTERS.get(cabin_letter)
                if tier is None or not classes.isalpha():
                    bad(n, f"RBD element {chunk!r} is not <cabin>/<classes>")
                    continue
                for c in classes:
                    rbd[c] = tier
            continue
        if kind == "ADL" and stripped in ("ADD", "DEL", "CHG"):
            section = stripped
            element, last_ssr = [], None
            continue
        if stripped.startswith("-"):
            m = _TOTALS.fullmatch(stripped)
            if m is None:
                bad(n, f"totals element {stripped!r} is not -<destination><3-digit count><class>")
                continue
            dest, cls = m["dest"], m["cls"]
            element, last_ssr = [], None
            continue
        if stripped.startswith("."):
            m = _REMARK.fullmatch(stripped)
            if m is None:
                bad(n, f"remark {stripped!r} is not .<tag>/<text>")
                continue
            if not element:
                bad(n, "remark before any name element")
                continue
            tag, body = m["tag"], m["text"].strip()
            if tag == "L":
                if re.fullmatch(r"[A-Z0-9]{5,8}", body.split("/")[0]) is None:
                    bad(n, f"PNR address {body!r} is not 5-8 letters or digits")
                    continue
                for p in element:
                    p.pnr = body.split("/")[0]
                last_ssr = None
            elif tag == "R":
                s = _SSR.fullmatch(body)
                if s is None:
                    bad(n, f"SSR {body!r} does not start with a 4-letter code")
                    continue
                code = s["code"]
                if code in DOCUMENT_SSRS:
                    pii_lines.append(n)
                    continue
                targets = element
                if s["assoc"]:
                    assoc = s["assoc"]
                    surname, _, given = assoc.lstrip("0123456789").partition("/")
                    g, _t = _split_title(given)
                    targets = [p for p in element if p.surname == surname and p.given == g]
                    if not targets:
                        bad(n, f"SSR names {assoc!r}, who is not in the name element above")
                        continue
                elif len(element) > 1:
                    targets = element[:1]  # an unassociated SSR belongs to the first name
                _apply_ssr(code, (s["text"] or "").strip(), targets, n, sections[section])
                last_ssr = (code, targets)
            elif tag == "RN":
                if last_ssr is None:
                    bad(n, ".RN/ continuation without an SSR above")
                    continue
                code, targets = last_ssr
                if code in ("CTCE", "CTCM"):
                    for p in targets:
                        if code == "CTCE" and p.email is not None:
                            p.email += _decode_contact(body)[0].lower()
            elif tag == "C":
                for p in element:
                    p.group = body[:64] or None
            elif tag in _IGNORED_TAGS:
                continue
            else:
                bad(n, f"unknown remark element .{tag}/")
            continue
        m = _NAME.fullmatch(stripped)
        if m is None:
            bad(n, f"unrecognised element {stripped!r}")
            continue
        if dest is None or cls is None:
            bad(n, "name element before any totals-by-destination element (-DDDnnnC)")
            continue
        givens = [g for g in m["given"].split("/") if g.strip()]
        if int(m["count"]) != len(givens):
            bad(
                n,
                f"name element says {int(m['count'])} passenger(s) but names {len(givens)}",
            )
            continue
        element = []
        for g in givens:
            given, title = _split_title(g)
            if not given:
                bad(n, f"given name missing in {stripped!r}")
                continue
            ptype = PassengerType.CHD if title in _CHILD_TITLES else PassengerType.ADT
            element.append(_Pax(m["surname"].strip(), given, title, dest, cls, n, ptype))
        sections[section].extend(element)
        last_ssr = None
    if pii_lines:
        shown = ", ".join(str(x) for x in pii_lines[:10])
        raise PIIRejectedError(
            f"the passenger list carries document or card data on line(s) {shown}: Nexa never "
            "accepts passport, identity or card data; nothing of the list was kept",
            lines=pii_lines,
        )
    if kind is None:
        raise InvalidInputError(
            "not a PNL or ADL: no PNL/ADL message identifier line",
            problems=["line 1: no PNL/ADL message identifier"],
        )
    if flight is None and not problems:
        problems.append(f"line {len(lines)}: no flight element")
    for sec in sections.values():
        for p in sec:
            if p.infant_of is not None:
                p.pnr = p.infant_of.pnr
            if p.pnr is None:
                problems.append(f"line {p.line}: {p.surname}/{p.given} has no PNR address (.L/)")
    if problems:
        raise InvalidInputError(
            f"invalid {kind}: {problems[0]}"
            + (f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""),
            problems=problems,
        )
    assert flight is not None

    def freeze(items: Iterable[_Pax]) -> tuple[ListedPassenger, ...]:
        out = []
        for p in items:
            assert p.pnr is not None
            out.append(
                ListedPassenger(
                    pnr=p.pnr,
                    surname=p.surname,
                    given=p.given,
                    title=p.title,
                    destination=p.dest,
                    booking_class=p.cls,
                    cabin=_cabin(p.cls, rbd),
                    type=p.type,
                    special_needs=frozenset(p.needs),
                    ssr_codes=tuple(sorted(set(p.codes))),
                    email=p.email,
                    phone=p.phone,
                    language=p.language,
                    loyalty_tier=p.loyalty,
                    group_name=p.group,
                    line=p.line,
                )
            )
        return tuple(out)

    carrier, number, when, board = flight
    return PassengerList(
        kind=kind,
        carrier=carrier,
        number=number,
        flight_date=when,
        board_point=board,
        parts=tuple(parts),
        passengers=freeze(sections["PNL"]),
        added=freeze(sections["ADD"]),
        deleted=freeze(sections["DEL"]),
        changed=freeze(sections["CHG"]),
    )


def _apply_ssr(
    code: str,
    text: str,
    targets: list[_Pax],
    n: int,
    section: list[_Pax],
) -> None:
    for p in targets:
        p.codes.append(code)
    if code in _NEEDS:
        for p in targets:
            p.needs.add(SpecialNeed(code))
    elif code == "CTCE":
        value, lang = _decode_contact(text)
        for p in targets:
            p.email = value.lower()
            p.language = p.language or lang
    elif code == "CTCM":
        value, lang = _decode_contact(text)
        digits = re.sub(r"[^0-9]", "", value)
        for p in targets:
            p.phone = f"+{digits}" if digits else None
            p.language = p.language or lang
    elif code == "CHLD":
        for p in targets:
            p.type = PassengerType.CHD
    elif code == "INFT":
        # "INFT HK1 SILVA/BEBEMISS 01JAN25": only the name is read, never the date
        name = text.lstrip("/ ").split(" ")[0]
        surname, _, given = name.partition("/")
        adult = targets[0]
        g, _title = _split_title(given) if given else ("INFANT", None)
        infant = _Pax(surname or adult.surname, g or "INFANT", None, adult.dest, adult.cls, n)
        infant.type = PassengerType.INF
        infant.infant_of = adult
        section.insert(section.index(adult) + 1, infant)
    elif code == "FQTV":
        word = text.split()[-1] if text.split() else ""
        if word.isalpha() and len(word) <= 16 and not re.fullmatch(r"[A-Z]{2}", word):
            for p in targets:
                p.loyalty = word


def apply_adl(pnl: PassengerList, adl: PassengerList) -> PassengerList:
    """The PNL after an ADL: deletions removed, changes replaced, additions appended.

    The ADL must be for the same flight and board point. A deletion or change of a
    passenger the list does not hold raises :class:`InvalidInputError` (line-numbered).
    """
    if pnl.kind != "PNL" or adl.kind != "ADL":
        raise InvalidInputError("apply_adl takes a PNL (or a PNL already updated) and an ADL")
    if (pnl.flight_id, pnl.board_point) != (adl.flight_id, adl.board_point):
        raise InvalidInputError(
            f"the ADL is for {adl.flight_id} {adl.board_point}, the PNL for "
            f"{pnl.flight_id} {pnl.board_point}"
        )
    current = {p.key: p for p in pnl.passengers}
    problems = []
    for p in adl.deleted:
        if current.pop(p.key, None) is None:
            problems.append(f"line {p.line}: DEL of {p.surname}/{p.given} ({p.pnr}): not listed")
    for p in adl.changed:
        if p.key not in current:
            problems.append(f"line {p.line}: CHG of {p.surname}/{p.given} ({p.pnr}): not listed")
        else:
            current[p.key] = p
    for p in adl.added:
        current[p.key] = p  # an ADD of a listed passenger replaces it (a re-send)
    if problems:
        raise InvalidInputError(f"ADL does not fit the PNL: {problems[0]}", problems=problems)
    return attrs.evolve(pnl, passengers=tuple(current.values()))
