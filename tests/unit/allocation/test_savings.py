"""Savings vs market: against each offer's stated market rate, negatives kept, None without."""

from __future__ import annotations

from decimal import Decimal

from nexa_core.allocation import allocate
from nexa_core.allocation.wave import plan_document
from nexa_core.model import RoomType

from .helpers import AIRPORT, POLICY, group, offer


def test_rooms_bought_above_market_count_negative() -> None:
    offers = [offer("C", [(RoomType.DBL, 5, "120")], vendor="direct", market="100")]
    plan = allocate([group("G1", [2])], offers, POLICY, AIRPORT, nights=2)
    assert plan.totals.savings_vs_market == Decimal("-40.00")  # (100 − 120) × 1 room × 2 nights


def test_no_offer_with_a_market_rate_means_unknown_not_zero() -> None:
    plan = allocate([group("G1", [2])], [offer("A", [(RoomType.DBL, 5, "90")])], POLICY, AIRPORT)
    assert plan.totals.savings_vs_market is None
    assert plan_document(plan)["savingsVsMarket"] is None
