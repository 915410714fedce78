"""Source files and spans: text with a lazy line index, and offsets turned into 1-based line and column."""

from __future__ import annotations

import bisect
import os

from hypermetric.record import Record, setfield


class SourceFile:
    """One `.hm` file (or a command-line string) with its text normalised to LF line endings,
    so that CRLF and CR files parse, and report positions, exactly like LF ones. Compared by identity."""

    def __init__(self, path: str, text: str, _line_starts: list[int] | None = None,
                 not_utf8: tuple[int, str] | None = None) -> None:
        self.path = path
        self.text = text
        self._line_starts = _line_starts
        # Where the file stops being UTF-8: (offset in `text`, what is wrong). `text` then shows the bad bytes
        # as U+FFFD, so that the parser can point at them; it never parses such a file.
        self.not_utf8 = not_utf8

    def __repr__(self) -> str:
        return f"SourceFile(path={self.path!r}, text={self.text!r})"

    @classmethod
    def read(cls, path: str | os.PathLike[str]) -> SourceFile:
        """The file as UTF-8 text; a byte-order mark at the start is dropped, like CRLF line ends."""
        with open(path, "rb") as f:
            raw = f.read()
        if raw.startswith(_BOM):
            raw = raw[len(_BOM):]
        try:
            return cls(str(path), normalize_newlines(raw.decode("utf-8")))
        except UnicodeDecodeError as e:
            text = normalize_newlines(raw.decode("utf-8", errors="replace"))
            at = len(normalize_newlines(raw[:e.start].decode("utf-8")))
            bad = raw[e.start:e.end]
            return cls(str(path), text, not_utf8=(at, f"byte 0x{bad[0]:02X} is not valid UTF-8 ({e.reason})"))

    @classmethod
    def from_text(cls, text: str, path: str = "<string>") -> SourceFile:
        return cls(path, normalize_newlines(text))

    @property
    def line_starts(self) -> list[int]:
        if self._line_starts is None:
            starts = [0]
            find = self.text.find
            i = find("\n")
            while i != -1:
                starts.append(i + 1)
                i = find("\n", i + 1)
            self._line_starts = starts
        return self._line_starts

    def position(self, offset: int) -> tuple[int, int]:
        """The 1-based (line, column) of a character offset."""
        offset = max(0, min(offset, len(self.text)))
        line = bisect.bisect_right(self.line_starts, offset) - 1
        return line + 1, offset - self.line_starts[line] + 1

    def line_text(self, line: int) -> str:
        """The text of a 1-based line, without its newline."""
        starts = self.line_starts
        if line < 1 or line > len(starts):
            return ""
        start = starts[line - 1]
        end = self.text.find("\n", start)
        return self.text[start:] if end == -1 else self.text[start:end]

    def display_path(self) -> str:
        """Relative to the current directory when the file lies below it, else as given (absolute)."""
        if self.path.startswith("<"):
            return self.path
        try:
            rel = os.path.relpath(self.path)
        except ValueError:
            return self.path
        return self.path if rel.startswith("..") else rel


_BOM = b"\xef\xbb\xbf"


def normalize_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


class Span(Record):
    """A half-open range of character offsets in one source file (compared by its offsets alone)."""

    __slots__ = ("file", "start", "end")
    _compared = ("start", "end")
    file: SourceFile
    start: int
    end: int

    def __init__(self, file: SourceFile, start: int, end: int) -> None:
        setfield(self, "file", file)
        setfield(self, "start", start)
        setfield(self, "end", end)

    @property
    def line(self) -> int:
        return self.file.position(self.start)[0]

    @property
    def column(self) -> int:
        return self.file.position(self.start)[1]

    def text(self) -> str:
        return self.file.text[self.start:self.end]

    def location(self) -> str:
        line, col = self.file.position(self.start)
        return f"{self.file.display_path()}:{line}:{col}"
