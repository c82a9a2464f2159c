"""The case report: a summary built through the store port and rendered as one HTML page.

``await build_case_report(store, tenant, case_urn)`` reads a case, its sub-cases,
reservations, review items, waves, notifications, cards, rides and audit trail; ``render_case_report_html(report)``
turns it into a self-contained page (inline CSS and SVG charts, no JavaScript, no network)
that contains counts, hotels and money only — never passenger contact data.
"""

from nexa_adapters.reporting.builder import (
    LIVE_RESERVATION_STATUSES,
    MAX_STAGE_POINTS,
    build_case_report,
    care_figures,
    plan_figures,
)
from nexa_adapters.reporting.charts import (
    STAGE_COLORS,
    passengers_per_hotel_svg,
    stages_over_time_svg,
)
from nexa_adapters.reporting.model import (
    CareFigures,
    CaseReport,
    ChannelFigures,
    HotelAllocation,
    MoneyTotal,
    ReservationStatusSummary,
    ReviewCategorySummary,
    StagePoint,
    StatusChange,
    TierRow,
    WaveSummary,
)
from nexa_adapters.reporting.render import TEMPLATE, render_case_report_html

__all__ = [
    "LIVE_RESERVATION_STATUSES",
    "MAX_STAGE_POINTS",
    "STAGE_COLORS",
    "TEMPLATE",
    "CareFigures",
    "CaseReport",
    "ChannelFigures",
    "HotelAllocation",
    "MoneyTotal",
    "ReservationStatusSummary",
    "ReviewCategorySummary",
    "StagePoint",
    "StatusChange",
    "TierRow",
    "WaveSummary",
    "build_case_report",
    "care_figures",
    "passengers_per_hotel_svg",
    "plan_figures",
    "render_case_report_html",
    "stages_over_time_svg",
]
