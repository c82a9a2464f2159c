"""Manual-review items: what automation could not finish, with its context."""

from __future__ import annotations

import enum
from datetime import datetime

import attrs

from nexa_core.model.common import StateMachine
from nexa_core.urn import Urn

__all__ = [
    "CATEGORY_PRIORITY",
    "REVIEW_LIFECYCLE",
    "AttemptedHotel",
    "ManualReviewItem",
    "Recommendation",
    "ReviewCategory",
    "ReviewPriority",
    "ReviewState",
]


class ReviewPriority(enum.StrEnum):
    """Urgency of a review item."""

    HIGH = "HIGH"
    MEDIUM = "MEDIUM"
    LOW = "LOW"


class ReviewCategory(enum.StrEnum):
    """Why the item exists (facts file §11)."""

    ALLOCATION_FAILED = "ALLOCATION_FAILED"
    BOOKING_FAILED = "BOOKING_FAILED"
    PAYMENT_FAILED = "PAYMENT_FAILED"
    PARTIAL_FULFILLMENT = "PARTIAL_FULFILLMENT"
    POLICY_VIOLATION = "POLICY_VIOLATION"
    MIXED_TIER_GROUP = "MIXED_TIER_GROUP"
    DATA_INCOMPLETE = "DATA_INCOMPLETE"
    TRANSPORT_FAILED = "TRANSPORT_FAILED"
    COMPENSATION_FAILED = "COMPENSATION_FAILED"
    NOTIFICATION = "NOTIFICATION"  # a passenger could not be reached on any channel


CATEGORY_PRIORITY: dict[ReviewCategory, ReviewPriority] = {
    ReviewCategory.ALLOCATION_FAILED: ReviewPriority.HIGH,
    ReviewCategory.BOOKING_FAILED: ReviewPriority.HIGH,
    ReviewCategory.PAYMENT_FAILED: ReviewPriority.MEDIUM,
    ReviewCategory.PARTIAL_FULFILLMENT: ReviewPriority.MEDIUM,
    ReviewCategory.POLICY_VIOLATION: ReviewPriority.LOW,
    ReviewCategory.MIXED_TIER_GROUP: ReviewPriority.LOW,
    ReviewCategory.DATA_INCOMPLETE: ReviewPriority.LOW,
    ReviewCategory.TRANSPORT_FAILED: ReviewPriority.MEDIUM,
    ReviewCategory.COMPENSATION_FAILED: ReviewPriority.HIGH,
    ReviewCategory.NOTIFICATION: ReviewPriority.MEDIUM,
}


class ReviewState(enum.StrEnum):
    """Review item lifecycle."""

    OPEN = "OPEN"
    CLAIMED = "CLAIMED"
    RESOLVED = "RESOLVED"


_V = ReviewState
REVIEW_LIFECYCLE: StateMachine[ReviewState] = StateMachine(
    "review",
    {
        _V.OPEN: frozenset({_V.CLAIMED, _V.RESOLVED}),
        _V.CLAIMED: frozenset({_V.OPEN, _V.RESOLVED}),
        _V.RESOLVED: frozenset(),
    },
)


@attrs.frozen
class AttemptedHotel:
    """A hotel tried for the group and why it did not work."""

    hotel_urn: Urn
    reason: str
    provider_error: str | None = None


@attrs.frozen
class Recommendation:
    """A ranked, read-only suggestion (from the triage port)."""

    rank: int
    action: str  # "rebook" | "relaxPolicy" | "splitGroup"
    reason: str
    hotel_urn: Urn | None = None
    group_id: str | None = None
    relaxations: tuple[tuple[str, str], ...] = ()
    source: str = "rules"


@attrs.frozen
class ManualReviewItem:
    """Context for an operator to finish what automation could not."""

    urn: Urn
    airline_urn: Urn
    case_urn: Urn
    category: ReviewCategory
    reason: str
    affected_groups: tuple[str, ...] = ()
    attempted_hotels: tuple[AttemptedHotel, ...] = ()
    recommendations: tuple[Recommendation, ...] = ()
    state: ReviewState = ReviewState.OPEN
    assigned_to: Urn | None = None
    resolution: str | None = None
    created_at: datetime | None = None
    version: int = 0
    claimed_at: datetime | None = None

    @property
    def priority(self) -> ReviewPriority:
        """Priority follows from the category."""
        return CATEGORY_PRIORITY[self.category]

    def transition(self, to: ReviewState) -> ManualReviewItem:
        """A copy in state ``to`` (checked against the lifecycle)."""
        REVIEW_LIFECYCLE.check(self.state, to, urn=self.urn)
        return attrs.evolve(self, state=to)
