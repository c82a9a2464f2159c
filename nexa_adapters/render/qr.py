"""QR codes for vouchers: ``segno`` builds the symbol, a small writer emits the PNG.

The payload is the reservation URN (front-desk verification). Two choices keep a QR
under a millisecond, so a voucher renders in about 2 ms (``benchmarks/care_delivery.py``):

* the mask pattern is fixed (``mask=2``): segno's automatic choice evaluates all eight
  masks and costs ~85 % of the build; every mask yields a valid, decodable symbol (the
  tests decode each voucher's QR with zxing-cpp), the penalty score only tunes contrast
  for difficult scanners, and error level M is kept for creased printouts;
* the PNG is written as 1-bit greyscale straight from segno's module matrix (stdlib
  ``zlib``), about four times faster than segno's generic pixel writer.
"""

from __future__ import annotations

import struct
import zlib

import segno

__all__ = ["qr_png"]

_MASK = 2
_PNG = b"\x89PNG\r\n\x1a\n"
#: module value (0 light, 1 dark) → a placeholder byte; PNG greyscale 0 is black
_MARK = bytes.maketrans(b"\x00\x01", b"LD")


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def qr_png(payload: str, *, scale: int = 4, border: int = 4) -> bytes:
    """The QR code of ``payload`` as a PNG (black modules on white, ``scale`` px each)."""
    code = segno.make(payload, error="m", micro=False, boost_error=False, mask=_MASK)
    matrix = code.matrix
    size = (len(matrix) + 2 * border) * scale
    tail = b"1" * ((-size) % 8)  # pad each row to whole bytes (white)
    width = (size + len(tail)) // 8
    light, dark = b"1" * scale, b"0" * scale
    margin = b"1" * (border * scale)

    def row(bits: bytes) -> bytes:
        return b"\x00" + int(bits, 2).to_bytes(width, "big")  # filter byte 0 (none)

    blank = row(b"1" * size + tail)
    rows = [blank] * (border * scale)
    for line in matrix:
        bits = bytes(line).translate(_MARK).replace(b"L", light).replace(b"D", dark)
        rows.extend([row(margin + bits + margin + tail)] * scale)
    rows.extend([blank] * (border * scale))
    header = struct.pack(">IIBBBBB", size, size, 1, 0, 0, 0, 0)  # 1-bit greyscale
    return (
        _PNG
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(b"".join(rows), 6))
        + _chunk(b"IEND", b"")
    )
