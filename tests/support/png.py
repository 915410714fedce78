"""A tiny PNG decoder (8-bit RGB or RGBA, not interlaced: what Chromium's screenshots are), so tests can look
at a screenshot's pixels with zlib and numpy only."""

from __future__ import annotations

import struct
import zlib
from collections import Counter

_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def decode(data: bytes) -> tuple[int, int, list[bytes]]:
    """(width, height, rows): each row `width * 3` bytes of RGB (an alpha channel is dropped)."""
    assert data[:8] == _SIGNATURE, "not a PNG file"
    pos, idat, header = 8, [], None
    while pos < len(data):
        (length,), kind = struct.unpack(">I", data[pos:pos + 4]), data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
    assert header is not None, "no IHDR chunk"
    width, height, depth, color, _, _, interlace = header
    assert depth == 8 and color in (2, 6) and interlace == 0, f"unsupported PNG: {header}"
    channels = 3 if color == 2 else 4
    raw = zlib.decompress(b"".join(idat))
    rows = _unfilter(raw, width * channels, height, channels)
    if channels == 4:
        import numpy as np

        rows = [np.frombuffer(row, np.uint8).reshape(-1, 4)[:, :3].tobytes() for row in rows]
    return width, height, rows


def _unfilter(raw: bytes, stride: int, height: int, bpp: int) -> list[bytes]:
    """Undo each row's filter; None, Sub and Up (most of a screenshot) with numpy, the others byte by byte."""
    import numpy as np

    rows: list[bytes] = []
    prev = np.zeros(stride, np.uint8)
    for y in range(height):
        start = y * (stride + 1)
        kind = raw[start]
        line = np.frombuffer(raw, np.uint8, stride, start + 1).copy()
        if kind == 1:
            line = line.reshape(-1, bpp).cumsum(axis=0, dtype=np.uint8).reshape(-1)
        elif kind == 2:
            line += prev
        elif kind in (3, 4):
            line = np.array(_unfilter_slow(kind, line.tolist(), prev.tolist(), bpp), np.uint8)
        rows.append(line.tobytes())
        prev = line
    return rows


def _unfilter_slow(kind: int, line: list[int], prev: list[int], bpp: int) -> list[int]:
    for i in range(len(line)):
        left = line[i - bpp] if i >= bpp else 0
        corner = prev[i - bpp] if i >= bpp else 0
        line[i] = (line[i] + _predict(kind, left, prev[i], corner)) & 0xFF
    return line


def _predict(kind: int, left: int, up: int, corner: int) -> int:
    if kind == 0:
        return 0
    if kind == 1:
        return left
    if kind == 2:
        return up
    if kind == 3:
        return (left + up) // 2
    p = left + up - corner
    pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
    return left if pa <= pb and pa <= pc else up if pb <= pc else corner


def colors(data: bytes) -> Counter[str]:
    """How many pixels have each colour, as `#rrggbb`."""
    import numpy as np

    _, _, rows = decode(data)
    pixels = np.frombuffer(b"".join(rows), np.uint8).reshape(-1, 3).astype(np.uint32)
    packed = (pixels[:, 0] << 16) | (pixels[:, 1] << 8) | pixels[:, 2]
    values, counts = np.unique(packed, return_counts=True)
    return Counter({f"#{int(v):06x}": int(n) for v, n in zip(values, counts)})
