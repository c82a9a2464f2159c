"""The manifest document: a disrupted flight and its passengers grouped by PNR.

```json
{"airline": "urn:airline:LAN", "external_event_id": "EV-1", "airport": "SCL",
 "flight": {"urn": "urn:flight:LA500@20260505", "destination": "EZE",
            "scheduled_departure": "2026-05-05T18:00:00-04:00", "status": "CANCELLED"},
 "disrupted_at": "2026-05-05T17:00:00-04:00",
 "next_departure": "2026-05-06T10:00:00-04:00",
 "groups": [{"group_id": "G1", "pnr": "urn:pnr:XYZ123:vendor:amadeus",
             "next_departure": null,
             "passengers": [{"urn": "urn:passenger:p-1:vendor:latam", "name": "Ana",
                             "email": "ana@example.com", "phone": "+56912345678",
                             "language": "es", "cabin": "BUSINESS", "type": "ADT",
                             "loyalty_tier": "GOLD", "special_needs": ["WCHR"]}]}]}
```

Documents, passports and card data are rejected before validation; unknown fields are
errors (a typo never silently drops data).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import attrs
from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
)

from nexa_core.errors import InputTooLargeError, InvalidInputError, NexaError
from nexa_core.model import (
    Contact,
    Flight,
    PassengerGroup,
    PassengerRef,
    PassengerType,
    SpecialNeed,
    Tier,
)
from nexa_core.pii import reject_card_numbers, reject_document_fields
from nexa_core.urn import Urn

__all__ = [
    "MAX_MANIFEST_PASSENGERS",
    "Manifest",
    "ManifestDocument",
    "parse_manifest",
    "pydantic_problems",
]

MAX_MANIFEST_PASSENGERS = 100_000
MAX_GROUP_SIZE = 99


def _urn_of(entity: str) -> Any:
    def check(value: str) -> str:
        try:
            urn = Urn.parse(value)
        except NexaError as exc:
            raise ValueError(str(exc)) from None
        if not urn.is_a(entity):
            raise ValueError(f"expected a {entity} URN, got {urn.entity}")
        return str(urn)

    return check


class PassengerDoc(BaseModel):
    model_config = ConfigDict(extra="forbid", str_max_length=256)

    urn: str
    name: str = Field("", max_length=128)
    email: str = Field(max_length=320)
    phone: str | None = Field(None, max_length=20)
    language: str | None = Field(None, max_length=16)
    cabin: Tier
    type: PassengerType = PassengerType.ADT
    loyalty_tier: str | None = Field(None, max_length=32)
    special_needs: list[SpecialNeed] = Field(default_factory=list, max_length=10)

    _check_urn = field_validator("urn")(classmethod(lambda cls, v: _urn_of("passenger")(v)))


class GroupDoc(BaseModel):
    model_config = ConfigDict(extra="forbid", str_max_length=256)

    group_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")
    pnr: str
    next_departure: AwareDatetime | None = None
    passengers: list[PassengerDoc] = Field(min_length=1, max_length=MAX_GROUP_SIZE)

    _check_pnr = field_validator("pnr")(classmethod(lambda cls, v: _urn_of("pnr")(v)))


class FlightDoc(BaseModel):
    model_config = ConfigDict(extra="forbid")

    urn: str
    destination: str = Field(pattern=r"^[A-Z]{3}$")
    scheduled_departure: AwareDatetime
    status: str = Field("CANCELLED", max_length=32)

    _check_urn = field_validator("urn")(classmethod(lambda cls, v: _urn_of("flight")(v)))


class ManifestDocument(BaseModel):
    """The JSON schema of a manifest (``nexa schema manifest`` prints it)."""

    model_config = ConfigDict(extra="forbid", str_max_length=512)

    airline: str
    external_event_id: str = Field(min_length=1, max_length=128)
    airport: str = Field(pattern=r"^[A-Z]{3}$")
    flight: FlightDoc
    disrupted_at: AwareDatetime
    next_departure: AwareDatetime | None = None
    groups: list[GroupDoc] = Field(min_length=1, max_length=MAX_MANIFEST_PASSENGERS)

    _check_airline = field_validator("airline")(classmethod(lambda cls, v: _urn_of("airline")(v)))


@attrs.frozen
class Manifest:
    """A validated manifest as domain values."""

    airline_urn: Urn
    external_event_id: str
    airport_urn: Urn
    flight: Flight
    disrupted_at: datetime
    next_departure: datetime | None
    groups: tuple[PassengerGroup, ...]
    group_departures: tuple[tuple[str, datetime], ...] = ()

    @property
    def passengers(self) -> int:
        """Total passengers (infants included)."""
        return sum(g.size for g in self.groups)


def pydantic_problems(exc: ValidationError, root: str = "$") -> list[str]:
    """``$.groups[0].passengers[1].email: <message>`` for each validation error."""
    out = []
    for err in exc.errors():
        path = root
        for part in err["loc"]:
            path += f"[{part}]" if isinstance(part, int) else f".{part}"
        out.append(f"{path}: {err['msg']}")
    return out


def parse_manifest(data: Any) -> Manifest:
    """Validate a decoded manifest document.

    Raises :class:`PIIRejectedError` (documents or card numbers),
    :class:`InputTooLargeError` (over the passenger limit) or :class:`InvalidInputError`
    whose message names the JSON path of the first problem (all are in
    ``context['problems']``).
    """
    if not isinstance(data, dict):
        raise InvalidInputError("a manifest must be a JSON object", problems=["$: not an object"])
    reject_document_fields(data)
    reject_card_numbers(data)
    groups = data.get("groups")
    if isinstance(groups, list):
        total = sum(len(g.get("passengers", [])) for g in groups if isinstance(g, dict))
        if total > MAX_MANIFEST_PASSENGERS:
            raise InputTooLargeError(
                f"manifest has {total} passengers; the limit is {MAX_MANIFEST_PASSENGERS}",
                passengers=total,
            )
    try:
        doc = ManifestDocument.model_validate(data)
    except ValidationError as exc:
        problems = pydantic_problems(exc)
        raise InvalidInputError(
            f"invalid manifest: {problems[0]}"
            + (f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""),
            problems=problems,
        ) from None
    seen_groups: set[str] = set()
    seen_pax: set[str] = set()
    groups_out = []
    departures = []
    for gi, g in enumerate(doc.groups):
        if g.group_id in seen_groups:
            raise InvalidInputError(
                f"invalid manifest: $.groups[{gi}].group_id: duplicate {g.group_id!r}",
                problems=[f"$.groups[{gi}].group_id: duplicate"],
            )
        seen_groups.add(g.group_id)
        pax = []
        for pi, p in enumerate(g.passengers):
            where = f"$.groups[{gi}].passengers[{pi}]"
            if p.urn in seen_pax:
                raise InvalidInputError(
                    f"invalid manifest: {where}.urn: passenger appears twice",
                    problems=[f"{where}.urn: duplicate"],
                )
            seen_pax.add(p.urn)
            try:
                contact = Contact(p.email, p.phone, p.language, p.name)
            except InvalidInputError as exc:
                field = str(exc.context.get("field", "contact")).replace("contact.", "")
                raise InvalidInputError(
                    f"invalid manifest: {where}.{field}: {exc}", problems=[f"{where}.{field}"]
                ) from None
            pax.append(
                PassengerRef(
                    urn=Urn.parse(p.urn),
                    contact=contact,
                    cabin=p.cabin,
                    type=p.type,
                    loyalty_tier=p.loyalty_tier,
                    special_needs=frozenset(p.special_needs),
                )
            )
        if not any(x.type is PassengerType.ADT for x in pax) and any(
            x.type is PassengerType.INF for x in pax
        ):
            raise InvalidInputError(
                f"invalid manifest: $.groups[{gi}]: an infant needs an adult on the same PNR",
                problems=[f"$.groups[{gi}]: infant without adult"],
            )
        groups_out.append(PassengerGroup(g.group_id, Urn.parse(g.pnr), tuple(pax)))
        if g.next_departure is not None:
            departures.append((g.group_id, g.next_departure))
    airport = Urn("airport", doc.airport)
    return Manifest(
        airline_urn=Urn.parse(doc.airline),
        external_event_id=doc.external_event_id,
        airport_urn=airport,
        flight=Flight(
            Urn.parse(doc.flight.urn),
            airport,
            Urn("airport", doc.flight.destination),
            doc.flight.scheduled_departure,
            doc.flight.status,
        ),
        disrupted_at=doc.disrupted_at,
        next_departure=doc.next_departure,
        groups=tuple(groups_out),
        group_departures=tuple(departures),
    )
