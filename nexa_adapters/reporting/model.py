"""The case report as data: frozen attrs values, no passenger contact data anywhere.

A :class:`CaseReport` holds counts, hotels and money only. Passengers appear as numbers
(never names, emails, phones or passenger/PNR URNs), so a report can be shared with
finance or a hotel desk without leaking personal data.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal

import attrs

from nexa_core.urn import Urn

__all__ = [
    "CareFigures",
    "CaseReport",
    "ChannelFigures",
    "HotelAllocation",
    "MoneyTotal",
    "PolicySummary",
    "ProviderSummary",
    "ReservationStatusSummary",
    "ReviewCategorySummary",
    "StagePoint",
    "StatusChange",
    "TierRow",
    "WaveSummary",
]


@attrs.frozen
class StatusChange:
    """One status transition of the case, from the audit log."""

    at: datetime
    before: str | None
    after: str
    action: str
    actor_role: str


@attrs.frozen
class HotelAllocation:
    """One row of the allocation table: the live reservations at one hotel (one currency)."""

    hotel_urn: Urn
    hotel_name: str
    vendor: str
    groups: int
    passengers: int
    rooms: int
    nights_min: int
    nights_max: int
    room_nights: int
    cost: Decimal
    currency: str

    @property
    def nights(self) -> str:
        """``"1"`` or a range such as ``"1–2"`` when groups stay for different nights."""
        if self.nights_min == self.nights_max:
            return str(self.nights_min)
        return f"{self.nights_min}–{self.nights_max}"


@attrs.frozen
class MoneyTotal:
    """Totals of the allocation table for one currency."""

    currency: str
    hotels: int
    groups: int
    passengers: int
    rooms: int
    room_nights: int
    cost: Decimal


@attrs.frozen
class ReservationStatusSummary:
    """Reservations of the case in one status."""

    status: str
    reservations: int
    rooms: int
    costs: tuple[tuple[str, Decimal], ...]  # (currency, amount), sorted by currency


@attrs.frozen
class ReviewCategorySummary:
    """Manual-review items of one category, by state."""

    category: str
    priority: str
    open: int
    claimed: int
    resolved: int
    affected_groups: int

    @property
    def total(self) -> int:
        """Items of the category in any state."""
        return self.open + self.claimed + self.resolved


@attrs.frozen
class ProviderSummary:
    """One hotel provider's part in a wave's search: answered, empty, timed-out, failed or
    skipped; offers it returned and offers kept after dedup."""

    provider: str
    outcome: str
    offers: int
    kept: int
    elapsed_s: float


@attrs.frozen
class WaveSummary:
    """One allocation wave (scalar plan totals, the search's providers, plan violations)."""

    urn: Urn
    sequence: int
    demand_urn: Urn
    created_at: datetime | None
    totals: tuple[tuple[str, str], ...]
    search: tuple[ProviderSummary, ...] = ()
    violations: int = 0


@attrs.frozen
class PolicySummary:
    """The policy version the case runs under (recorded when the case was opened)."""

    urn: Urn
    name: str
    version: int
    state: str


@attrs.frozen
class StagePoint:
    """How many sub-cases were in each status right after ``at``."""

    at: datetime
    counts: Mapping[str, int]


@attrs.frozen
class ChannelFigures:
    """Messages on one channel: sent (or delivered), failed, fallbacks, still queued."""

    channel: str
    sent: int = 0
    failed: int = 0
    fallback: int = 0
    queued: int = 0


@attrs.frozen
class CareFigures:
    """The care a case delivered: vouchers, messages per channel, meal cards, rides."""

    vouchers_issued: int = 0
    channels: tuple[ChannelFigures, ...] = ()
    cards_issued: int = 0
    loaded: tuple[tuple[str, Decimal], ...] = ()  # (currency, amount)
    planned: tuple[tuple[str, Decimal], ...] = ()  # every drop scheduled
    drops_loaded: int = 0
    drops_scheduled: int = 0
    transfers: tuple[tuple[str, int], ...] = ()  # (status, count)
    transfers_by_vendor: tuple[tuple[str, int], ...] = ()
    late_cancellation_fees: tuple[tuple[str, Decimal], ...] = ()


@attrs.frozen
class TierRow:
    """Passengers of one tier: accommodated or not, and what their rooms cost."""

    tier: str
    passengers: int
    accommodated: int  # their group holds a live (pending or confirmed) reservation
    no_hotel_needed: int = 0  # local residents, or no overnight gap
    costs: tuple[tuple[str, Decimal], ...] = ()  # CONFIRMED reservations only

    @property
    def not_accommodated(self) -> int:
        """Passengers of the tier who need a hotel and have none."""
        return self.passengers - self.accommodated - self.no_hotel_needed


@attrs.frozen
class CaseReport:
    """Everything the one-page case report shows."""

    case_urn: Urn
    airline_urn: Urn
    airport: str
    airport_name: str
    flight_urn: Urn
    flight_number: str
    flight_status: str
    origin: str
    destination: str
    status: str
    disrupted_at: datetime
    next_departure: datetime | None
    created_at: datetime | None
    updated_at: datetime | None
    first_activity: datetime | None
    last_activity: datetime | None
    generated_at: datetime
    case_timeline: tuple[StatusChange, ...]
    sub_cases: int
    passengers: int
    sub_cases_by_status: tuple[tuple[str, int], ...]
    allocation: tuple[HotelAllocation, ...]
    totals: tuple[MoneyTotal, ...]
    reservations_by_status: tuple[ReservationStatusSummary, ...]
    reviews: tuple[ReviewCategorySummary, ...]
    waves: tuple[WaveSummary, ...]
    stages: tuple[str, ...]
    stage_series: tuple[StagePoint, ...]
    policy: PolicySummary | None = None
    #: what CONFIRMED reservations cost (a failed or cancelled one costs nothing)
    booked_cost: tuple[tuple[str, Decimal], ...] = ()
    #: the allocation plans' room cost, summed over the waves (planned, not booked)
    planned_cost: tuple[tuple[str, Decimal], ...] = ()
    #: savings vs the offers' market rate, summed over the waves (None: no reference)
    savings_vs_market: Decimal | None = None
    tiers: tuple[TierRow, ...] = ()
    care: CareFigures = CareFigures()

    @property
    def passengers_accommodated(self) -> int:
        """Passengers of the groups holding a live (pending or confirmed) reservation."""
        return sum(row.passengers for row in self.allocation)

    @property
    def passengers_not_accommodated(self) -> int:
        """Passengers who need a hotel and have no live reservation."""
        if self.tiers:
            return sum(t.not_accommodated for t in self.tiers)
        return self.passengers - self.passengers_accommodated

    @property
    def review_items(self) -> int:
        """Manual-review items of every category and state."""
        return sum(r.total for r in self.reviews)

    @property
    def elapsed(self) -> str | None:
        """Time from the first to the last audited action, as ``1h 05m`` (None if unknown)."""
        if self.first_activity is None or self.last_activity is None:
            return None
        seconds = int((self.last_activity - self.first_activity).total_seconds())
        hours, rest = divmod(max(seconds, 0), 3600)
        minutes, secs = divmod(rest, 60)
        if hours:
            return f"{hours}h {minutes:02d}m"
        return f"{minutes}m {secs:02d}s"
