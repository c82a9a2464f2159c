"""Render a :class:`CaseReport` as one self-contained HTML page (Jinja2, autoescaped)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from functools import lru_cache

import jinja2

from nexa_adapters.reporting.charts import passengers_per_hotel_svg, stages_over_time_svg
from nexa_adapters.reporting.model import CaseReport

__all__ = ["TEMPLATE", "render_case_report_html"]

#: the template shipped as package data under ``nexa_adapters/reporting/templates/``
TEMPLATE = "case_report.html.j2"


def _when(value: datetime | None) -> str:
    if value is None:
        return "—"
    return value.isoformat(sep=" ", timespec="minutes")


def _money(value: Decimal) -> str:
    return f"{value:,.2f}"


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("nexa_adapters.reporting", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["when"] = _when
    env.filters["money"] = _money
    return env


def render_case_report_html(report: CaseReport) -> str:
    """The report as one HTML page: inline CSS and SVG, no scripts, no external resources."""
    template = _environment().get_template(TEMPLATE)
    return template.render(
        r=report,
        hotels_chart=passengers_per_hotel_svg(report.allocation),
        stages_chart=stages_over_time_svg(report.stages, report.stage_series),
    )
