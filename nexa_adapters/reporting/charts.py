"""Inline SVG charts drawn in Python: no JavaScript, no fonts or files fetched.

Every text that comes from data (hotel names, stage names) is escaped here, and the
results are :class:`markupsafe.Markup` so the autoescaping template embeds them as is.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

from nexa_adapters.reporting.model import HotelAllocation, StagePoint

__all__ = ["STAGE_COLORS", "passengers_per_hotel_svg", "stages_over_time_svg"]

#: a colour per sub-case status (unknown statuses get grey)
STAGE_COLORS = {
    "PENDING": "#9aa5b1",
    "PROCESSING": "#3e7cb1",
    "OFFER_READY": "#81b29a",
    "COMPENSATING": "#f2a541",
    "RESOLVED": "#2a9d8f",
    "FAILED": "#d62828",
    "MANUAL_REVIEW": "#9b5de5",
    "REJECTED_BY_PAX": "#6c757d",
}
_BAR = "#3e7cb1"
_FONT = 'font-family="system-ui, sans-serif" font-size="12"'


def _truncate(text: str, n: int = 34) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def passengers_per_hotel_svg(rows: Sequence[HotelAllocation]) -> Markup:
    """A horizontal bar per allocation row: passengers at that hotel."""
    if not rows:
        return Markup('<p class="empty">No live reservations yet.</p>')
    label_w, bar_w, row_h, top = 250, 400, 24, 10
    height = top + row_h * len(rows) + 10
    peak = max(r.passengers for r in rows) or 1
    parts = [
        f'<svg class="chart hotels" xmlns="http://www.w3.org/2000/svg" width="{label_w + bar_w + 70}"'
        f' height="{height}" role="img" aria-label="Passengers per hotel" {_FONT}>'
    ]
    for i, r in enumerate(rows):
        y = top + i * row_h
        w = max(round(bar_w * r.passengers / peak), 1 if r.passengers else 0)
        name = escape(_truncate(r.hotel_name))
        parts.append(
            f'<text x="{label_w - 8}" y="{y + 16}" text-anchor="end">{name}</text>'
            f'<rect class="bar" x="{label_w}" y="{y + 4}" width="{w}" height="{row_h - 8}"'
            f' fill="{_BAR}" data-passengers="{r.passengers}">'
            f"<title>{escape(r.hotel_name)}: {r.passengers} passengers, {r.rooms} rooms</title>"
            f"</rect>"
            f'<text x="{label_w + w + 6}" y="{y + 16}">{r.passengers}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def stages_over_time_svg(stages: Sequence[str], points: Sequence[StagePoint]) -> Markup:
    """A step line per sub-case status: how many sub-cases were in it over time."""
    if not points:
        return Markup('<p class="empty">No sub-case transitions recorded in the audit log.</p>')
    left, right, top, plot_w, plot_h = 44, 170, 12, 520, 200
    width, height = left + plot_w + right, top + plot_h + 40
    t0, t1 = points[0].at, points[-1].at
    span = (t1 - t0).total_seconds()
    peak = max((max(p.counts.values(), default=0) for p in points), default=0) or 1

    def x(i: int) -> float:
        if span <= 0:
            return left + plot_w * (i / max(len(points) - 1, 1))
        return left + plot_w * (points[i].at - t0).total_seconds() / span

    def y(n: int) -> float:
        return top + plot_h - plot_h * n / peak

    parts = [
        f'<svg class="chart stages" xmlns="http://www.w3.org/2000/svg" width="{width}"'
        f' height="{height}" role="img" aria-label="Sub-cases per stage over time" {_FONT}>',
        f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}"'
        ' stroke="#444"/>',
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}" stroke="#444"/>',
        f'<text x="{left - 6}" y="{top + 4}" text-anchor="end">{peak}</text>',
        f'<text x="{left - 6}" y="{top + plot_h + 4}" text-anchor="end">0</text>',
        f'<text x="{left}" y="{top + plot_h + 18}">{t0:%Y-%m-%d %H:%M:%S} UTC</text>',
        f'<text x="{left + plot_w}" y="{top + plot_h + 18}" text-anchor="end">{t1:%H:%M:%S}</text>',
    ]
    for k, stage in enumerate(stages):
        color = STAGE_COLORS.get(stage, "#444444")
        coords: list[str] = []
        prev: float | None = None
        for i, p in enumerate(points):
            xi, yi = x(i), y(p.counts.get(stage, 0))
            if prev is not None:
                coords.append(f"{xi:.1f},{prev:.1f}")
            coords.append(f"{xi:.1f},{yi:.1f}")
            prev = yi
        coords.append(f"{left + plot_w:.1f},{prev:.1f}")
        final = points[-1].counts.get(stage, 0)
        name = escape(stage)
        parts.append(
            f'<polyline class="series" data-stage="{name}" data-final="{final}"'
            f' points="{" ".join(coords)}" fill="none" stroke="{color}" stroke-width="2">'
            f"<title>{name}: {final} now</title></polyline>"
        )
        ly = top + 10 + k * 18
        lx = left + plot_w + 14
        parts.append(
            f'<rect x="{lx}" y="{ly - 9}" width="10" height="10" fill="{color}"/>'
            f'<text x="{lx + 16}" y="{ly}">{name} ({final})</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))
