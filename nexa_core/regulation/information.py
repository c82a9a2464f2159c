"""The information duties a disruption triggers, as data a notification layer can schedule.

:func:`information_duties` says *what* each listed regulation obliges the carrier to tell
passengers and *when* (at once, every N minutes, in writing on request);
:func:`information_schedule` turns the timed ones into due instants between the moment
the carrier learns of the disruption and the departure. Nothing here sends anything.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import datetime, timedelta

import attrs

from nexa_core.errors import InvalidInputError
from nexa_core.regulation.model import MAX_DELAY, Disruption, PassengerFlags
from nexa_core.regulation.presets import preset

__all__ = [
    "InformationDuty",
    "InformationTrigger",
    "information_duties",
    "information_schedule",
]

_H = timedelta(hours=1)
_HALF_HOUR = timedelta(minutes=30)


class InformationTrigger(enum.StrEnum):
    """When an information duty falls due."""

    AT_ONCE = "at_once"  # as soon as the carrier knows (within ``within`` when set)
    EVERY = "every"  # repeated updates every ``every`` until departure
    ON_REQUEST = "on_request"  # when the passenger asks


@attrs.frozen
class InformationDuty:
    """One thing the carrier must tell the passengers, when, and the rule that says so."""

    regulation: str
    trigger: InformationTrigger
    subject: str
    citation: str
    every: timedelta | None = attrs.field(default=None)
    within: timedelta = timedelta(0)
    in_writing: bool = False

    @every.validator
    def _check_every(self, _: object, value: timedelta | None) -> None:
        if value is not None and value <= timedelta(0):
            raise InvalidInputError("an update interval must be positive", field="every")


def _anac(d: Disruption, f: PassengerFlags) -> list[InformationDuty]:
    out: list[InformationDuty] = []
    art = "ANAC Res. 400"
    if d.cancelled:
        out.append(
            InformationDuty(
                "ANAC400",
                InformationTrigger.AT_ONCE,
                "the cancellation, by the means of communication available",
                f"{art} Art. 20, II",
            )
        )
    elif d.delay > timedelta(0):
        out.append(
            InformationDuty(
                "ANAC400",
                InformationTrigger.AT_ONCE,
                "the delay and the new estimated departure time, by the means available",
                f"{art} Art. 20, I",
            )
        )
        out.append(
            InformationDuty(
                "ANAC400",
                InformationTrigger.EVERY,
                "an update of the estimated departure time",
                f"{art} Art. 20, §1: at most every 30 minutes",
                every=_HALF_HOUR,
            )
        )
        if d.delay > 4 * _H:
            out.append(
                InformationDuty(
                    "ANAC400",
                    InformationTrigger.AT_ONCE,
                    "the choice of re-accommodation, refund or another mode of transport, as "
                    "soon as the delay is known to exceed 4 h",
                    f"{art} Art. 21, sole paragraph",
                )
            )
    if d.cancelled or d.delay > timedelta(0) or f.denied_boarding:
        out.append(
            InformationDuty(
                "ANAC400",
                InformationTrigger.ON_REQUEST,
                "the reason for the delay, cancellation or denied boarding",
                f"{art} Art. 20, §2",
                in_writing=True,
            )
        )
    return out


def _appr(d: Disruption, f: PassengerFlags) -> list[InformationDuty]:
    if not (d.cancelled or d.delay > timedelta(0) or f.denied_boarding):
        return []
    out = [
        InformationDuty(
            "APPR",
            InformationTrigger.AT_ONCE,
            "the reason, the compensation the passenger may be entitled to, the standard of "
            "treatment, and the recourse available, including to the Canadian Transportation "
            "Agency",
            "APPR s. 13(1)(a)-(d)",
        )
    ]
    if not d.cancelled and d.delay > timedelta(0):
        out.append(
            InformationDuty(
                "APPR",
                InformationTrigger.EVERY,
                "a status update, until a new departure time is set or alternate travel "
                "arrangements are made",
                "APPR s. 13(2): every 30 minutes",
                every=_HALF_HOUR,
            )
        )
    return out


def _eu261(d: Disruption, f: PassengerFlags) -> list[InformationDuty]:
    if d.cancelled or f.denied_boarding or d.delay >= 2 * _H:
        return [
            InformationDuty(
                "EU261",
                InformationTrigger.AT_ONCE,
                "a written notice of the rules for compensation and assistance under the "
                "Regulation",
                "EU261 Art. 14(2)",
                in_writing=True,
            )
        ]
    return []


def _dot(d: Disruption, f: PassengerFlags) -> list[InformationDuty]:
    if d.cancelled or d.delay >= _HALF_HOUR:
        return [
            InformationDuty(
                "DOT",
                InformationTrigger.AT_ONCE,
                "the change in flight status (cancellation or a delay of 30 minutes or more)",
                "14 CFR 259.8(a): within 30 minutes of the carrier becoming aware",
                within=_HALF_HOUR,
            )
        ]
    return []


_DUTIES = {"ANAC400": _anac, "APPR": _appr, "EU261": _eu261, "DOT": _dot}


def information_duties(
    regulations: Iterable[str],
    disruption: Disruption,
    flags: PassengerFlags | None = None,
) -> tuple[InformationDuty, ...]:
    """Every information duty the listed regulations attach to ``disruption``."""
    f = flags or PassengerFlags()
    out: list[InformationDuty] = []
    for key in regulations:
        for duty in _DUTIES[preset(key).key](disruption, f):
            if duty not in out:
                out.append(duty)
    return tuple(out)


def information_schedule(
    duties: Iterable[InformationDuty], *, known_at: datetime, departs_at: datetime
) -> tuple[tuple[datetime, InformationDuty], ...]:
    """The instants each timed duty falls due, in order.

    ``known_at`` is when the carrier learned of the disruption, ``departs_at`` the
    (new) departure: ``AT_ONCE`` duties fall due at ``known_at + within``, ``EVERY``
    duties every ``every`` after ``known_at`` while before ``departs_at``. ``ON_REQUEST``
    duties have no instant and are left out.
    """
    if known_at.tzinfo is None or departs_at.tzinfo is None:
        raise InvalidInputError("instants must carry a UTC offset", field="known_at")
    if departs_at - known_at > MAX_DELAY:
        raise InvalidInputError(
            f"the schedule cannot span more than {MAX_DELAY.days} days", field="departs_at"
        )
    out: list[tuple[datetime, InformationDuty]] = []
    for duty in duties:
        if duty.trigger is InformationTrigger.AT_ONCE:
            out.append((known_at + duty.within, duty))
        elif duty.trigger is InformationTrigger.EVERY and duty.every:
            at = known_at + duty.every
            while at < departs_at:
                out.append((at, duty))
                at += duty.every
    out.sort(key=lambda item: item[0])
    return tuple(out)
