"""Structural URNs: ``urn:<entity>:<id>[:vendor:<vendor>][:status:<status>]``.

Every identifier in Nexa is a :class:`Urn`. The vendor segment names the issuer of an
id that comes from outside Nexa and routes to the adapter (a dict lookup in a
:class:`VendorRegistry`); the status segment is present only when it is load-bearing.

Equivalence follows RFC 8141 where it applies: the ``urn`` prefix and the entity (our
namespace identifier) are case-insensitive and normalised to lower case; the id is
case-sensitive. Vendor and status are lower-case tokens (they are normalised too).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from typing import Generic, TypeVar

import attrs

from nexa_core.errors import ConfigurationError, InvalidUrnError, NotFoundError

__all__ = [
    "ENTITY_TYPES",
    "EntityType",
    "Urn",
    "VendorRegistry",
    "correlation_from_traceparent",
    "new_correlation",
    "vendor_of",
    "with_status",
    "without_status",
]

_GENERIC_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._~@+=-]{0,127}")
_TOKEN = re.compile(r"[a-z][a-z0-9_-]{0,31}")
_ENTITY = re.compile(r"[a-z][a-z0-9-]{0,31}")
_HEX32 = re.compile(r"[0-9a-f]{32}")
_HEX16 = re.compile(r"[0-9a-f]{16}")
_HEX2 = re.compile(r"[0-9a-f]{2}")


def _flight_id(value: str) -> bool:
    m = re.fullmatch(r"([A-Z0-9]{2,3})([0-9]{1,4})([A-Z]?)@([0-9]{8})", value)
    if m is None:
        return False
    try:
        datetime.strptime(m.group(4), "%Y%m%d")
    except ValueError:
        return False
    return True


def _correlation_id(value: str) -> bool:
    return bool(re.fullmatch(r"[0-9a-f]{1,32}", value)) and set(value) != {"0"}


@attrs.frozen
class EntityType:
    """One row of the URN registry: the entity name, its id rule and an example."""

    name: str
    description: str
    example: str
    id_rule: str = "letters, digits and . _ ~ @ + = - (1-128 chars, starting alphanumeric)"
    _check: Callable[[str], bool] = attrs.field(
        default=lambda v: _GENERIC_ID.fullmatch(v) is not None, repr=False, eq=False
    )

    def accepts(self, value: str) -> bool:
        """Whether ``value`` is a valid id for this entity type."""
        return self._check(value)


def _t(
    name: str,
    description: str,
    example: str,
    rule: str | None = None,
    check: Callable[[str], bool] | None = None,
) -> tuple[str, EntityType]:
    if rule is None or check is None:
        return name, EntityType(name, description, example)
    return name, EntityType(name, description, example, rule, check)


#: The URN registry (data-model seed plus the aggregates Nexa persists).
ENTITY_TYPES: Mapping[str, EntityType] = dict(
    [
        _t("case", "The macro disruption.", "urn:case:c-7f8e1"),
        _t("sub-case", "One PNR's saga unit.", "urn:sub-case:sc-91a4"),
        _t(
            "flight",
            "A flight on a date.",
            "urn:flight:LA500@20260505:vendor:aeroapi",
            "<carrier 2-3 uppercase alphanumerics><number 1-4 digits>[suffix]@<yyyymmdd>",
            _flight_id,
        ),
        _t(
            "airline",
            "Tenant identity.",
            "urn:airline:LAN",
            "2-16 letters or digits",
            lambda v: re.fullmatch(r"[A-Za-z0-9]{2,16}", v) is not None,
        ),
        _t(
            "airport",
            "IATA-coded airport.",
            "urn:airport:SCL",
            "3 uppercase letters (IATA)",
            lambda v: re.fullmatch(r"[A-Z]{3}", v) is not None,
        ),
        _t(
            "passenger",
            "Reference only; PII stays at the airline.",
            "urn:passenger:p-1124:vendor:latam",
        ),
        _t("pnr", "Booking locator, partner-tagged.", "urn:pnr:XYZ123:vendor:amadeus"),
        _t("offer", "Ephemeral search-result handle; the soft-hold key.", "urn:offer:8842"),
        _t("hotel", "Hotel, partner-tagged for routing.", "urn:hotel:SCL1234:vendor:amadeus"),
        _t("reservation", "Nexa-side or partner reservation.", "urn:reservation:r-8842"),
        _t("hold-attempt", "One soft-hold acquisition.", "urn:hold-attempt:h-a91"),
        _t("issued-card", "Virtual prepaid card per (case, group).", "urn:issued-card:ic-44b1"),
        _t(
            "card-account",
            "A partner card's authorizer balance.",
            "urn:card-account:crd-20gRqyp809SvDzXzhSeG2w6UiO5:vendor:pomelo",
        ),
        _t("transfer", "Ground transport leg.", "urn:transfer:t-3301:vendor:uber"),
        _t("user", "Operator, admin or finance identity.", "urn:user:u-7"),
        _t(
            "correlation",
            "W3C trace id rewritten as a URN.",
            "urn:correlation:4bf92f3577b34da6a3ce929d0e0e4736",
            "lower-case hex, 1-32 chars, not all zeros",
            _correlation_id,
        ),
        _t(
            "compensation-dead-letter",
            "Permanent saga-rollback failure.",
            "urn:compensation-dead-letter:cdl-118",
        ),
        _t("event", "A domain or webhook event.", "urn:event:e-7f8e1"),
        _t("review", "A manual-review item.", "urn:review:rv-12"),
        _t("policy", "A policy version.", "urn:policy:pol-mad-vip"),
        _t("demand", "A demand (room) request.", "urn:demand:DMD-0001"),
        _t("wave", "An allocation wave.", "urn:wave:w-1"),
        _t("contract", "A direct hotel contract.", "urn:contract:ct-9"),
        _t("audit", "An audit entry.", "urn:audit:a-1"),
        _t("notification", "A notification send.", "urn:notification:n-1"),
        _t("auth", "A card authorization.", "urn:auth:auth-9912:vendor:pomelo"),
        _t("agent-run", "An exception-triage run.", "urn:agent-run:ar-1"),
        _t("relay", "An outbox consumer's relay (its lease).", "urn:relay:snapshots"),
    ]
)


@attrs.frozen
class Urn:
    """An immutable, hashable URN.

    Build one with :meth:`parse` (from text) or :meth:`of` (from parts); both validate.
    ``str(urn)`` gives the canonical form and ``Urn.parse(str(u)) == u`` always holds.
    """

    entity: str
    id: str
    vendor: str | None = None
    status: str | None = None

    def __attrs_post_init__(self) -> None:
        _validate(self.entity, self.id, self.vendor, self.status, source=None)

    @classmethod
    def of(
        cls, entity: str, id: str, *, vendor: str | None = None, status: str | None = None
    ) -> Urn:
        """Build a URN from parts (entity, vendor and status are case-normalised)."""
        return cls(
            entity.lower(),
            id,
            vendor.lower() if vendor is not None else None,
            status.lower() if status is not None else None,
        )

    @classmethod
    def parse(cls, text: str) -> Urn:
        """Parse ``urn:<entity>:<id>[:vendor:<vendor>][:status:<status>]``.

        Raises :class:`InvalidUrnError` naming the offending part.
        """
        if not isinstance(text, str):
            raise InvalidUrnError("URN must be a string", part="urn", value=repr(text))
        if len(text) > 512:
            raise InvalidUrnError("URN is longer than 512 characters", part="urn")
        parts = text.split(":")
        if parts[0].lower() != "urn":
            raise InvalidUrnError(
                f"URN must start with 'urn:' (got {text[:32]!r})", part="prefix", value=text
            )
        if len(parts) < 3:
            raise InvalidUrnError(
                f"URN {text!r} has no id: expected urn:<entity>:<id>", part="id", value=text
            )
        entity, ident, rest = parts[1].lower(), parts[2], parts[3:]
        vendor: str | None = None
        status: str | None = None
        if len(rest) % 2:
            raise InvalidUrnError(
                f"URN {text!r} has a dangling segment {rest[-1]!r}", part="segment", value=text
            )
        pairs = [(rest[i].lower(), rest[i + 1]) for i in range(0, len(rest), 2)]
        seen: list[str] = []
        for key, value in pairs:
            if key not in ("vendor", "status"):
                raise InvalidUrnError(
                    f"URN {text!r} has unknown segment {key!r} (only vendor and status)",
                    part="segment",
                    value=text,
                )
            if key in seen or (key == "vendor" and "status" in seen):
                raise InvalidUrnError(
                    f"URN {text!r}: segment {key!r} repeated or out of order "
                    "(vendor comes before status)",
                    part=key,
                    value=text,
                )
            seen.append(key)
            if key == "vendor":
                vendor = value.lower()
            else:
                status = value.lower()
        _validate(entity, ident, vendor, status, source=text)
        return cls(entity, ident, vendor, status)

    def __str__(self) -> str:
        out = f"urn:{self.entity}:{self.id}"
        if self.vendor is not None:
            out += f":vendor:{self.vendor}"
        if self.status is not None:
            out += f":status:{self.status}"
        return out

    @property
    def base(self) -> Urn:
        """The identity part (entity, id, vendor) without the status segment."""
        return without_status(self)

    def is_a(self, entity: str) -> bool:
        """Whether this URN is of the given entity type (case-insensitive)."""
        return self.entity == entity.lower()


def _validate(
    entity: str, ident: str, vendor: str | None, status: str | None, *, source: str | None
) -> None:
    shown = source if source is not None else f"urn:{entity}:{ident}"
    if not isinstance(entity, str) or _ENTITY.fullmatch(entity) is None:
        raise InvalidUrnError(
            f"URN {shown!r}: entity {entity!r} is not a valid entity name", part="entity"
        )
    etype = ENTITY_TYPES.get(entity)
    if etype is None:
        raise InvalidUrnError(
            f"URN {shown!r}: unknown entity {entity!r}", part="entity", entity=entity
        )
    if not isinstance(ident, str) or not ident:
        raise InvalidUrnError(f"URN {shown!r}: empty id", part="id", entity=entity)
    if not etype.accepts(ident):
        raise InvalidUrnError(
            f"URN {shown!r}: id {ident!r} is not a valid {entity} id ({etype.id_rule})",
            part="id",
            entity=entity,
        )
    if vendor is not None and _TOKEN.fullmatch(vendor) is None:
        raise InvalidUrnError(
            f"URN {shown!r}: vendor {vendor!r} is not a lower-case token", part="vendor"
        )
    if status is not None and _TOKEN.fullmatch(status) is None:
        raise InvalidUrnError(
            f"URN {shown!r}: status {status!r} is not a lower-case token", part="status"
        )


def vendor_of(urn: Urn | str) -> str | None:
    """The vendor segment of a URN (``None`` for Nexa-minted ids)."""
    return (urn if isinstance(urn, Urn) else Urn.parse(urn)).vendor


def with_status(urn: Urn, status: str) -> Urn:
    """The same URN carrying ``status``."""
    return Urn.of(urn.entity, urn.id, vendor=urn.vendor, status=status)


def without_status(urn: Urn) -> Urn:
    """The same URN without a status segment."""
    return urn if urn.status is None else Urn(urn.entity, urn.id, urn.vendor, None)


def _storable(trace: str) -> bool:
    """Not all zeros, and no digit run the card-number guard of every store would refuse
    (a random trace id holds a Luhn-valid 13–19 digit run about once in 550)."""
    from nexa_core.pii import find_card_numbers

    return trace != "0" * 32 and not find_card_numbers(trace)


def new_correlation() -> Urn:
    """A fresh ``urn:correlation:`` with a random W3C trace id."""
    while True:
        trace = secrets.token_hex(16)
        if _storable(trace):
            return Urn("correlation", trace)


def correlation_from_traceparent(header: str | None) -> Urn:
    """``urn:correlation:<trace-id>`` from a W3C ``traceparent`` header.

    A valid header keeps its trace id. An invalid one (wrong length or field count,
    upper-case hex, version ``ff``, all-zero trace or parent id) starts a new random
    trace, as the W3C Trace Context rules prescribe for a receiver; so does a trace id
    that looks like a card number (the stores would refuse every record carrying it).
    """
    if header is None:
        return new_correlation()
    value = header.strip()
    fields = value.split("-")
    if len(fields) < 4:
        return new_correlation()
    version, trace, parent, flags = fields[0], fields[1], fields[2], fields[3]
    if _HEX2.fullmatch(version) is None or version == "ff":
        return new_correlation()
    if version == "00" and (len(fields) != 4 or len(value) != 55):
        return new_correlation()
    if _HEX32.fullmatch(trace) is None or not _storable(trace):
        return new_correlation()
    if _HEX16.fullmatch(parent) is None or parent == "0" * 16:
        return new_correlation()
    if _HEX2.fullmatch(flags) is None:
        return new_correlation()
    return Urn("correlation", trace)


T = TypeVar("T")


class VendorRegistry(Generic[T]):
    """Routes a URN's vendor segment to an adapter with one dict lookup."""

    def __init__(self, adapters: Mapping[str, T] | None = None) -> None:
        self._adapters: dict[str, T] = {}
        for name, adapter in (adapters or {}).items():
            self.register(name, adapter)

    def register(self, vendor: str, adapter: T) -> None:
        """Add an adapter for ``vendor``; a second registration of a name is an error."""
        key = vendor.lower()
        if key in self._adapters:
            raise ConfigurationError(f"vendor {key!r} is already registered", vendor=key)
        self._adapters[key] = adapter

    def for_vendor(self, vendor: str) -> T:
        """The adapter registered for ``vendor``."""
        try:
            return self._adapters[vendor.lower()]
        except KeyError:
            raise NotFoundError(
                f"no adapter registered for vendor {vendor!r}", vendor=vendor
            ) from None

    def resolve(self, urn: Urn) -> T:
        """The adapter for a URN's vendor segment."""
        if urn.vendor is None:
            raise NotFoundError(f"URN {urn} carries no vendor segment", urn=str(urn))
        return self.for_vendor(urn.vendor)

    def __contains__(self, vendor: object) -> bool:
        return isinstance(vendor, str) and vendor.lower() in self._adapters

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._adapters))

    def __len__(self) -> int:
        return len(self._adapters)

    def items(self) -> list[tuple[str, T]]:
        """Registered (vendor, adapter) pairs, sorted by vendor."""
        return sorted(self._adapters.items())
