"""QR codes for vouchers (``segno``): the payload is the reservation URN."""

from __future__ import annotations

import segno

__all__ = ["qr_png", "qr_png_data_uri", "qr_svg_data_uri"]


def _make(payload: str) -> segno.QRCode:
    # error level M survives a creased or partly smudged printout; never a Micro QR
    return segno.make(payload, error="m", micro=False, boost_error=False)


def qr_png(payload: str, *, scale: int = 4, border: int = 4) -> bytes:
    """The QR code as PNG bytes."""
    import io

    out = io.BytesIO()
    _make(payload).save(out, kind="png", scale=scale, border=border)
    return out.getvalue()


def qr_png_data_uri(payload: str, *, scale: int = 4, border: int = 4) -> str:
    """A ``data:image/png;base64,…`` URI for ``<img src>``."""
    return str(_make(payload).png_data_uri(scale=scale, border=border))


def qr_svg_data_uri(payload: str, *, scale: int = 4, border: int = 4) -> str:
    """A ``data:image/svg+xml,…`` URI (vector; prints sharply)."""
    return str(_make(payload).svg_data_uri(scale=scale, border=border))
