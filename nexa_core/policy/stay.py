"""Stay plans: when each PNR group checks in and out, and for how many nights.

The rule (documented in ``docs/stay-plans.md``):

* **check-in** = disruption time + ``buffers.early_check_in_minutes`` (getting from the
  gate to the hotel: deplaning, bags, transfer). The room is requested from then.
* **check-out** = rebooked departure − ``buffers.late_checkout_minutes`` (getting back to
  the airport in time for the new flight). The room is held until then (usually later than
  the hotel's standard noon check-out, hence "late check-out").
* All arithmetic is done on absolute time (UTC), then both instants are shown in the
  airport's time zone (IANA tz database via :mod:`zoneinfo`), so a daylight-saving change
  never adds or removes a real hour. (Beware: Python subtracts and compares two datetimes
  sharing one ``ZoneInfo`` by wall clock; convert to UTC before measuring a stay.)
* **nights** = hotel nights between the two local dates. A hotel night is dated by its
  evening: a check-in before ``NIGHT_CUTOFF`` (06:00 local) belongs to the night that is
  already running (the previous date). So ``nights = check_out.date() − arrival date``,
  where arrival date is ``check_in.date()`` or the day before for a small-hours check-in.
* **No overnight**: when ``nights`` is 0 (the new flight leaves before the next hotel night
  ends, or the buffers leave no time at all) the plan has ``nights = 0`` and
  ``local_resident = True`` — the group needs no hotel (``OperationalStatus.LOCAL_RESIDENT``).
  Passengers who live at the airport's city are planned the same way (``resident=True``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs

from nexa_core.errors import InvalidInputError
from nexa_core.model import PassengerGroup, StayPlan
from nexa_core.policy.model import Buffers

__all__ = [
    "NIGHT_CUTOFF",
    "Reaccommodation",
    "StayPlanChange",
    "plan_stay",
    "plan_stays",
    "reaccommodate",
    "zone",
]

#: check-ins before this local time belong to the night already running
NIGHT_CUTOFF = time(6, 0)


def zone(name: str) -> ZoneInfo:
    """The IANA time zone ``name`` (``InvalidInputError`` when the tz database lacks it)."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInputError(f"unknown time zone {name!r}", field="timezone") from None


def _aware(value: datetime, field: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInputError(f"{field} must carry a UTC offset", field=field)


def plan_stay(
    *,
    disrupted_at: datetime,
    departure: datetime,
    timezone: str,
    buffers: Buffers,
    resident: bool = False,
) -> StayPlan:
    """The stay plan for one group (rules in the module docstring)."""
    _aware(disrupted_at, "disrupted_at")
    _aware(departure, "departure")
    if departure < disrupted_at:
        raise InvalidInputError(
            "the rebooked departure is before the disruption", field="departure"
        )
    tz = zone(timezone)
    check_in_utc = disrupted_at + timedelta(minutes=buffers.early_check_in_minutes)
    check_out_utc = departure - timedelta(minutes=buffers.late_checkout_minutes)
    check_in = check_in_utc.astimezone(tz)
    check_out = check_out_utc.astimezone(tz)
    if check_out_utc <= check_in_utc:
        return StayPlan(check_in, check_in, 0, timezone, local_resident=True)
    arrival_date = check_in.date()
    if check_in.time() < NIGHT_CUTOFF:
        arrival_date -= timedelta(days=1)
    nights = max(0, (check_out.date() - arrival_date).days)
    if resident or nights == 0:
        return StayPlan(check_in, check_out, 0, timezone, local_resident=True)
    return StayPlan(check_in, check_out, nights, timezone)


def plan_stays(
    groups: Sequence[PassengerGroup],
    *,
    disrupted_at: datetime,
    departure: datetime | None,
    timezone: str,
    buffers: Buffers,
    group_departures: Mapping[str, datetime] | None = None,
    residents: frozenset[str] = frozenset(),
) -> dict[str, StayPlan]:
    """Stay plans per group id: a group's own departure wins over the case's ``departure``.

    Raises :class:`InvalidInputError` when a group has neither (nothing is computed).
    """
    per_group = dict(group_departures or {})
    missing = [g.group_id for g in groups if g.group_id not in per_group and departure is None]
    if missing:
        raise InvalidInputError(
            f"no rebooked departure for groups {', '.join(missing[:5])}"
            + (f" (+{len(missing) - 5} more)" if len(missing) > 5 else ""),
            field="departure",
        )
    out: dict[str, StayPlan] = {}
    for g in groups:
        dep = per_group.get(g.group_id, departure)
        assert dep is not None  # checked above
        out[g.group_id] = plan_stay(
            disrupted_at=disrupted_at,
            departure=dep,
            timezone=timezone,
            buffers=buffers,
            resident=g.group_id in residents,
        )
    return out


@attrs.frozen
class StayPlanChange:
    """How one group's plan moved on re-accommodation."""

    group_id: str
    before: StayPlan | None
    after: StayPlan

    @property
    def became_local_resident(self) -> bool:
        """The group needed a hotel before and needs none now."""
        return self.after.local_resident and not (self.before and self.before.local_resident)

    @property
    def nights_delta(self) -> int:
        """Nights after minus nights before."""
        return self.after.nights - (self.before.nights if self.before else 0)


@attrs.frozen
class Reaccommodation:
    """New plans for every group plus the groups whose plan changed."""

    plans: Mapping[str, StayPlan]
    changes: tuple[StayPlanChange, ...]

    @property
    def changed_groups(self) -> tuple[str, ...]:
        """Ids of the groups whose check-in, check-out, nights or residency changed."""
        return tuple(c.group_id for c in self.changes)


def _key(plan: StayPlan) -> tuple[datetime, datetime, int, bool]:
    # compare instants in UTC: same-zone aware datetimes compare by wall clock in Python
    return (
        plan.check_in.astimezone(UTC),
        plan.check_out.astimezone(UTC),
        plan.nights,
        plan.local_resident,
    )


def reaccommodate(
    previous: Mapping[str, StayPlan],
    groups: Sequence[PassengerGroup],
    *,
    disrupted_at: datetime,
    departure: datetime | None,
    timezone: str,
    buffers: Buffers,
    group_departures: Mapping[str, datetime] | None = None,
    residents: frozenset[str] = frozenset(),
) -> Reaccommodation:
    """Recompute every group's plan for a new departure and report the ones that changed.

    Plans compare by absolute instants (a plan re-expressed in the same zone is unchanged).
    """
    plans = plan_stays(
        groups,
        disrupted_at=disrupted_at,
        departure=departure,
        timezone=timezone,
        buffers=buffers,
        group_departures=group_departures,
        residents=residents,
    )
    changes = []
    for gid, new in plans.items():
        old = previous.get(gid)
        if old is None or _key(old) != _key(new):
            changes.append(StayPlanChange(gid, old, new))
    return Reaccommodation(plans, tuple(changes))
