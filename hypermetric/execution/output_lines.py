"""Cutting one output stream of a job into lines, fed in pieces as they were read back from its file.

Every way a job's output reaches the run's view (a local script's files, a `@@runner` job's files, a Ray job's
files on shared storage) cuts it the same way. Lines end at `\\n`, `\\r\\n` or a lone `\\r`. A line ended by a
lone `\\r` is a progress bar redrawing itself (tqdm writes its updates so): it is handed on at once, keeping its
`\\r`, so that a viewer can show it in place instead of waiting for a `\\n` that may come only at the end of a
long job. A `\\r\\n` split between two pieces still ends one line.

A stream that writes a long time without any line end is handed on in pieces of at most `LONGEST` bytes, so
the caller never holds more than that of it; a piece ends before a UTF-8 character that would not fit whole.
"""

from __future__ import annotations

import re

LONGEST = 65536         # bytes: a longer line is handed on in pieces of this size
_LINE_END = re.compile(rb"\r\n|\n|\r")
_CR = b"\r"             # the leftover after a line ended by a lone `\r`: a `\n` next ends nothing more


class LineSplitter:
    """The lines of one stream, as pieces of it come (`feed`), and at its end the last one (`rest`)."""

    __slots__ = ("_rest",)

    def __init__(self) -> None:
        self._rest = b""

    def feed(self, data: bytes) -> list[bytes]:
        """The lines that `data` completes, without their line end; one ended by a lone `\\r` keeps it."""
        text = self._rest
        if text == _CR:
            text = b""
            if data.startswith(b"\n"):
                data = data[1:]
        text += data
        out: list[bytes] = []
        start = 0
        for match in _LINE_END.finditer(text):
            start = _long_pieces(text, start, match.start(), out)
            out.append(text[start:match.start()] + (_CR if match.group() == _CR else b""))
            start = match.end()
        start = _long_pieces(text, start, len(text), out)
        if start == len(text) and out and out[-1].endswith(_CR):
            self._rest = _CR
        else:
            self._rest = text[start:]
        return out

    def rest(self) -> bytes:
        """The unfinished last line (the stream has ended), or `b""`; the splitter is empty afterwards."""
        rest, self._rest = self._rest, b""
        return b"" if rest == _CR else rest


def _long_pieces(text: bytes, start: int, end: int, out: list[bytes]) -> int:
    """Hand on `text[start:end]` (a line without its end) in pieces of at most `LONGEST` bytes, each ending
    before a UTF-8 character it would split (a continuation byte is `10xxxxxx`) unless the bytes there are no
    UTF-8, until less than a piece is left; where that rest begins."""
    while end - start > LONGEST:
        cut = start + LONGEST
        for back in range(4):
            if text[cut - back] & 0xC0 != 0x80:
                cut -= back
                break
        out.append(text[start:cut])
        start = cut
    return start


def decode(line: bytes) -> str:
    """A line as text: UTF-8, with what is not valid UTF-8 replaced (a job may write any bytes)."""
    return line.decode("utf-8", errors="replace")
