"""Rendering: Jinja2 + Babel vouchers and notifications, QR codes with segno."""

from nexa_adapters.render.qr import qr_png, qr_png_data_uri, qr_svg_data_uri
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
    "qr_png_data_uri",
    "qr_svg_data_uri",
]
