"""``AirlineProvider`` adapters: sandbox, PNL/ADL teletype lists, a PSS serving JSON.

All three keep what they read in memory only, for ``ttl`` (default 6 h): Nexa never
persists PNR documents; a restart or an expired entry reads the airline's source again.

* :class:`SandboxAirline` — a synthetic manifest per flight (deterministic per flight).
* :class:`TeletypeAirline` — the PNL and ADLs the airline sends: pushed with
  :meth:`TeletypeAirline.receive` or read from an inbox directory the airline's
  messaging gateway drops them into (``*.pnl``, ``*.adl``, ``*.txt``; the PNL first, then
  the ADLs in file-name order). Lists carry no schedule, so :meth:`flight` answers
  NotFoundError; the schedule comes from the flight-status partner.
* :class:`PssJsonAirline` — ``GET {base}/flights/{id}`` and ``GET {base}/flights/{id}/manifest``
  with a per-tenant Bearer ``api_key``; the groups are validated exactly like a manifest
  document (document fields, card numbers and hidden characters are refused).

Passenger URNs are ``urn:passenger:p-<12 hex>:vendor:<passenger_vendor>``, a digest of
PNR and name: stable across ADLs and free of the name itself (URNs are logged).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import attrs
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from nexa_adapters.airline.teletype import ListedPassenger, PassengerList, apply_adl, parse_teletype
from nexa_adapters.documents.manifest import parse_manifest, pydantic_problems
from nexa_adapters.http._base import HttpAdapter
from nexa_adapters.http._resilience import parse_json
from nexa_adapters.sandbox.inventory import airport as sandbox_airport
from nexa_adapters.sandbox.manifests import synthetic_manifest
from nexa_core.errors import InvalidInputError, MalformedResponseError, NotFoundError
from nexa_core.model import Contact, Flight, PassengerGroup, PassengerRef
from nexa_core.ports import Clock
from nexa_core.runtime import SystemClock
from nexa_core.urn import Urn

__all__ = [
    "PssJsonAirline",
    "SandboxAirline",
    "TeletypeAirline",
    "groups_from_list",
]


def _flight_id(flight_urn: Urn) -> str:
    if not flight_urn.is_a("flight"):
        raise InvalidInputError(f"{flight_urn} is not a flight URN", field="flight")
    return flight_urn.id


@attrs.define
class _Cache:
    """Entries that expire (the only memory of airline data)."""

    clock: Clock
    ttl: timedelta
    entries: dict[tuple[str, str], tuple[datetime, Any]] = attrs.field(factory=dict)

    def get(self, key: tuple[str, str]) -> Any:
        found = self.entries.get(key)
        if found is None:
            return None
        if found[0] <= self.clock.now():
            del self.entries[key]
            return None
        return found[1]

    def put(self, key: tuple[str, str], value: Any) -> None:
        self.entries[key] = (self.clock.now() + self.ttl, value)


def groups_from_list(
    plist: PassengerList, *, pnr_vendor: str, passenger_vendor: str
) -> tuple[PassengerGroup, ...]:
    """PNR groups of a (PNL or updated) list; a PNR without any CTCE email is an error.

    The PNR's contact (its first CTCE/CTCM) is every member's contact unless a member has
    their own.
    """
    by_pnr: dict[str, list[ListedPassenger]] = {}
    for p in plist.passengers:
        by_pnr.setdefault(p.pnr, []).append(p)
    problems = []
    groups = []
    for pnr, members in by_pnr.items():
        email = next((m.email for m in members if m.email), None)
        phone = next((m.phone for m in members if m.phone), None)
        lang = next((m.language for m in members if m.language), None)
        if email is None:
            problems.append(
                f"line {members[0].line}: PNR {pnr} has no CTCE email (needed for the voucher)"
            )
            continue
        refs = []
        for m in members:
            digest = hashlib.sha256("|".join(m.key).encode()).hexdigest()[:12]
            try:
                contact = Contact(
                    m.email or email, m.phone or phone, m.language or lang, m.display_name
                )
            except InvalidInputError as exc:
                problems.append(f"line {m.line}: {exc}")
                continue
            refs.append(
                PassengerRef(
                    urn=Urn("passenger", f"p-{digest}", passenger_vendor),
                    contact=contact,
                    cabin=m.cabin,
                    type=m.type,
                    loyalty_tier=m.loyalty_tier,
                    special_needs=m.special_needs,
                )
            )
        if refs:
            groups.append(PassengerGroup(pnr, Urn("pnr", pnr, pnr_vendor), tuple(refs)))
    if problems:
        raise InvalidInputError(
            f"invalid passenger list: {problems[0]}"
            + (f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""),
            problems=problems,
        )
    return tuple(groups)


class SandboxAirline:
    """Synthetic flights and manifests (``passengers`` per flight, from ``origin``)."""

    def __init__(
        self, *, origin: str = "SCL", destination: str = "EZE", passengers: int = 180, seed: int = 7
    ) -> None:
        self.name = "sandbox"
        self.origin = origin
        self.destination = destination
        self.passengers = passengers
        self.seed = seed

    def _departure(self, flight_urn: Urn) -> datetime:
        day = datetime.strptime(_flight_id(flight_urn).split("@")[1], "%Y%m%d").date()
        tz = ZoneInfo(sandbox_airport(self.origin).timezone)
        return datetime.combine(day, time(20, 15), tzinfo=tz)

    async def flight(self, airline_urn: Urn, flight_urn: Urn) -> Flight:
        """The flight, leaving ``origin`` at 20:15 local on its date."""
        return Flight(
            flight_urn,
            Urn("airport", self.origin),
            Urn("airport", self.destination),
            self._departure(flight_urn),
        )

    async def manifest(self, airline_urn: Urn, flight_urn: Urn) -> Sequence[PassengerGroup]:
        """A synthetic manifest (same flight, same passengers)."""
        fid = _flight_id(flight_urn)
        seed = int(hashlib.sha256(f"{self.seed}:{fid}".encode()).hexdigest()[:8], 16)
        doc = synthetic_manifest(
            self.origin,
            self.passengers,
            seed=seed,
            airline=airline_urn.id,
            destination=self.destination,
            event_id=fid,
            disrupted_at=self._departure(flight_urn) - timedelta(hours=1),
        )
        return parse_manifest(doc).groups


class TeletypeAirline:
    """The airline's PNL/ADL messages (pushed or read from an inbox directory)."""

    def __init__(
        self,
        inbox: str | Path | None = None,
        *,
        clock: Clock | None = None,
        pnr_vendor: str = "pss",
        passenger_vendor: str | None = None,
        ttl: timedelta = timedelta(hours=6),
    ) -> None:
        self.name = "pnl"
        self.inbox = Path(inbox) if inbox is not None else None
        self.clock = clock or SystemClock()
        self.pnr_vendor = pnr_vendor
        self.passenger_vendor = passenger_vendor
        self._cache = _Cache(self.clock, ttl)

    def _key(self, airline_urn: Urn, flight_id: str, board: str = "") -> tuple[str, str]:
        return (str(airline_urn), flight_id)

    def receive(self, airline_urn: Urn, text: str) -> PassengerList:
        """Take in one PNL (replaces the flight's list) or ADL (applied to it).

        Raises like :func:`~nexa_adapters.airline.teletype.parse_teletype`; an ADL for a
        flight without a PNL raises :class:`InvalidInputError`. A rejected message leaves
        the cached list as it was.
        """
        parsed = parse_teletype(text, reference=self.clock.now().date())
        key = self._key(airline_urn, parsed.flight_id)
        if parsed.kind == "PNL":
            self._cache.put(key, parsed)
            return parsed
        current = self._cache.get(key)
        if current is None:
            raise InvalidInputError(
                f"ADL for {parsed.flight_id} {parsed.board_point} before its PNL", field="adl"
            )
        updated = apply_adl(current, parsed)
        self._cache.put(key, updated)
        return updated

    def _read_inbox(self, airline_urn: Urn, flight_id: str) -> PassengerList | None:
        if self.inbox is None or not self.inbox.is_dir():
            return None
        files = sorted(
            p for p in self.inbox.iterdir() if p.suffix.lower() in (".pnl", ".adl", ".txt")
        )
        # the flight's own date resolves the year the lists leave out
        reference = datetime.strptime(flight_id.split("@")[1], "%Y%m%d").date()
        pnl: PassengerList | None = None
        adls: list[PassengerList] = []
        for path in files:
            text = path.read_text(encoding="ascii", errors="replace")
            try:
                parsed = parse_teletype(text, reference=reference)
            except InvalidInputError as exc:
                problems = [f"{path.name}: {p}" for p in exc.context.get("problems", [str(exc)])]
                raise type(exc)(f"{path.name}: {exc}", problems=problems) from None
            if parsed.flight_id != flight_id:
                continue
            if parsed.kind == "PNL":
                pnl, adls = parsed, []  # a later PNL supersedes the earlier one and its ADLs
            else:
                adls.append(parsed)
        if pnl is None:
            return None
        for adl in adls:
            pnl = apply_adl(pnl, adl)
        self._cache.put(self._key(airline_urn, flight_id), pnl)
        return pnl

    def passenger_list(self, airline_urn: Urn, flight_urn: Urn) -> PassengerList:
        """The flight's current list (cache, then inbox); NotFoundError when none."""
        fid = _flight_id(flight_urn)
        found = self._cache.get(self._key(airline_urn, fid)) or self._read_inbox(airline_urn, fid)
        if found is None:
            raise NotFoundError(f"no PNL received for {fid}", urn=str(flight_urn))
        return found  # type: ignore[no-any-return]

    async def flight(self, airline_urn: Urn, flight_urn: Urn) -> Flight:
        """PNL/ADL lists carry no schedule: always NotFoundError (ask the status partner)."""
        raise NotFoundError(
            f"{flight_urn.id}: a PNL carries no departure time; the flight-status source has it",
            urn=str(flight_urn),
        )

    async def manifest(self, airline_urn: Urn, flight_urn: Urn) -> Sequence[PassengerGroup]:
        """PNR groups of the flight's PNL with its ADLs applied."""
        plist = self.passenger_list(airline_urn, flight_urn)
        return groups_from_list(
            plist,
            pnr_vendor=self.pnr_vendor,
            passenger_vendor=self.passenger_vendor or airline_urn.id.lower(),
        )


class PssJsonAirline(HttpAdapter):
    """A PSS serving the flight and its manifest as JSON (Bearer ``api_key``).

    ``GET /flights/LA500@20260505`` → ``{"urn": …, "origin": "SCL", "destination": "EZE",
    "scheduled_departure": "2026-05-05T20:15:00-04:00", "status": "CANCELLED"}``;
    ``GET /flights/LA500@20260505/manifest`` → ``{"groups": [<manifest groups>]}``.
    """

    vendor = "pss"
    default_base_url = "http://127.0.0.1:0"

    def __init__(self, *, ttl: timedelta = timedelta(minutes=15), **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._cache = _Cache(self.clock, ttl)

    async def _get(self, airline_urn: Urn, path: str, operation: str) -> Any:
        async def headers() -> dict[str, str]:
            return {
                "Authorization": f"Bearer {(await self.secret(airline_urn, 'api_key')).reveal()}"
            }

        response = await self.http.request(
            "GET", path, tenant=airline_urn, operation=operation, headers=headers
        )
        return parse_json(response, self.vendor, operation)

    async def _flight_doc(self, airline_urn: Urn, flight_urn: Urn) -> dict[str, Any]:
        fid = _flight_id(flight_urn)
        key = (str(airline_urn), f"flight:{fid}")
        found = self._cache.get(key)
        if found is None:
            found = await self._get(airline_urn, f"/flights/{fid}", "flights.get")
            if not isinstance(found, dict):
                raise MalformedResponseError(
                    f"{self.vendor} flights.get: expected an object", vendor=self.vendor
                )
            self._cache.put(key, found)
        return found  # type: ignore[no-any-return]

    def _manifest(
        self, airline_urn: Urn, flight_urn: Urn, flight: dict[str, Any], groups: Any
    ) -> Any:
        doc = {
            "airline": str(airline_urn),
            "external_event_id": flight_urn.id,
            "airport": flight.get("origin"),
            "flight": {
                "urn": str(flight_urn),
                "destination": flight.get("destination"),
                "scheduled_departure": flight.get("scheduled_departure"),
                "status": flight.get("status", "SCHEDULED"),
            },
            "disrupted_at": flight.get("scheduled_departure"),
            "groups": groups,
        }
        try:
            return parse_manifest(doc)
        except InvalidInputError as exc:
            if type(exc) is not InvalidInputError:
                raise  # PII and size rejections keep their meaning
            raise MalformedResponseError(
                f"{self.vendor}: the PSS answer is not a valid manifest: {exc}",
                vendor=self.vendor,
                problems=exc.context.get("problems", []),
            ) from None

    async def flight(self, airline_urn: Urn, flight_urn: Urn) -> Flight:
        """The flight as the PSS has it."""
        doc = await self._flight_doc(airline_urn, flight_urn)
        try:
            f = _PssFlight.model_validate(doc)
        except ValidationError as exc:
            problems = pydantic_problems(exc)
            raise MalformedResponseError(
                f"{self.vendor} flights.get: {problems[0]}", vendor=self.vendor, problems=problems
            ) from None
        return Flight(
            flight_urn,
            Urn("airport", f.origin),
            Urn("airport", f.destination),
            f.scheduled_departure,
            f.status,
        )

    async def manifest(self, airline_urn: Urn, flight_urn: Urn) -> Sequence[PassengerGroup]:
        """The flight's PNR groups (validated like a manifest document)."""
        fid = _flight_id(flight_urn)
        key = (str(airline_urn), f"manifest:{fid}")
        cached: tuple[PassengerGroup, ...] | None = self._cache.get(key)
        if cached is not None:
            return cached
        flight = await self._flight_doc(airline_urn, flight_urn)
        body = await self._get(airline_urn, f"/flights/{fid}/manifest", "flights.manifest")
        groups = body.get("groups") if isinstance(body, dict) else None
        out = self._manifest(airline_urn, flight_urn, flight, groups).groups
        self._cache.put(key, out)
        return out  # type: ignore[no-any-return]


class _PssFlight(BaseModel):
    model_config = ConfigDict(extra="ignore")

    origin: str = Field(pattern=r"^[A-Z]{3}$")
    destination: str = Field(pattern=r"^[A-Z]{3}$")
    scheduled_departure: AwareDatetime
    status: str = Field("SCHEDULED", max_length=32, pattern=r"^[A-Za-z_ -]+$")
