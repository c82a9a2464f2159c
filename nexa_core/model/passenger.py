"""Passenger references and PNR groups — minimal data, no documents (toxic PII boundary)."""

from __future__ import annotations

import enum
import re

import attrs

from nexa_core.errors import InvalidInputError
from nexa_core.model.common import PassengerType, SpecialNeed, Tier
from nexa_core.urn import Urn

__all__ = [
    "Contact",
    "OperationalStatus",
    "PassengerGroup",
    "PassengerRef",
]

_EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]{1,255}\.[^@\s]{1,63}")
_PHONE = re.compile(r"\+[1-9][0-9]{6,14}")
_LANG = re.compile(r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})?")


def _check_email(_: object, __: object, value: str) -> None:
    if _EMAIL.fullmatch(value) is None:
        raise InvalidInputError("contact email is not a valid address", field="contact.email")


def _check_phone(_: object, __: object, value: str | None) -> None:
    if value is not None and _PHONE.fullmatch(value) is None:
        raise InvalidInputError(
            "contact phone must be E.164 (+ and 7-15 digits)", field="contact.phone"
        )


def _check_lang(_: object, __: object, value: str | None) -> None:
    if value is not None and _LANG.fullmatch(value) is None:
        raise InvalidInputError(f"language {value!r} is not a BCP 47 tag", field="contact.language")


@attrs.frozen
class Contact:
    """The minimum needed to deliver a voucher: display name, email, phone, language.

    ``language`` is the passenger's preference; ``None`` means none is known, so the
    airport's default language applies, then English.
    """

    email: str = attrs.field(validator=_check_email)
    phone: str | None = attrs.field(default=None, validator=_check_phone)
    language: str | None = attrs.field(default=None, validator=_check_lang)  # None: no preference
    name: str = ""

    def __repr__(self) -> str:  # contact data stays out of reprs and logs
        return "Contact(<redacted>)"


@attrs.frozen
class PassengerRef:
    """A passenger as Nexa knows them: a URN reference plus what policy matching needs."""

    urn: Urn
    contact: Contact
    cabin: Tier
    type: PassengerType = PassengerType.ADT
    loyalty_tier: str | None = None
    special_needs: frozenset[SpecialNeed] = frozenset()

    def __attrs_post_init__(self) -> None:
        if not self.urn.is_a("passenger"):
            raise InvalidInputError(f"{self.urn} is not a passenger URN", field="urn")

    @property
    def needs_accessible_room(self) -> bool:
        """Whether any special need calls for an accessible room."""
        return any(n.needs_accessible_room for n in self.special_needs)


class OperationalStatus(enum.StrEnum):
    """Where a group stands operationally."""

    UNASSIGNED = "UNASSIGNED"
    ASSIGNED = "ASSIGNED"
    CHECKED_IN = "CHECKED_IN"
    CHECKED_OUT = "CHECKED_OUT"
    LOCAL_RESIDENT = "LOCAL_RESIDENT"


@attrs.frozen
class PassengerGroup:
    """All passengers of one PNR; never split across hotels."""

    group_id: str
    pnr_urn: Urn
    passengers: tuple[PassengerRef, ...]
    operational_status: OperationalStatus = OperationalStatus.UNASSIGNED

    def __attrs_post_init__(self) -> None:
        if not self.passengers:
            raise InvalidInputError(f"group {self.group_id} has no passengers", field="passengers")
        if not self.pnr_urn.is_a("pnr"):
            raise InvalidInputError(f"{self.pnr_urn} is not a PNR URN", field="pnr")

    @property
    def tiers(self) -> frozenset[Tier]:
        """Every tier present in the group (more than one → MIXED_TIER_GROUP)."""
        return frozenset(p.cabin for p in self.passengers)

    @property
    def tier(self) -> Tier:
        """The group's tier: the highest cabin present (callers flag mixed groups)."""
        order = list(Tier)
        return max(self.tiers, key=order.index)

    @property
    def lead(self) -> PassengerRef:
        """The lead passenger: the first adult, else the first passenger."""
        for p in self.passengers:
            if p.type is PassengerType.ADT:
                return p
        return self.passengers[0]

    @property
    def size(self) -> int:
        """Number of passengers, infants included."""
        return len(self.passengers)
