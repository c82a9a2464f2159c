"""Rendering: Jinja2 + Babel vouchers and notifications, QR codes with segno."""

from nexa_adapters.render.qr import qr_png
from nexa_adapters.render.renderer import (
    DEFAULT_AIRLINE,
    JinjaRenderer,
    format_local,
    format_money,
)

__all__ = [
    "DEFAULT_AIRLINE",
    "JinjaRenderer",
    "format_local",
    "format_money",
    "qr_png",
]
