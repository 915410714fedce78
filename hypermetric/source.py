"""Source files and spans: text with a lazy line index, and offsets turned into 1-based line and column."""

from __future__ import annotations

import bisect
import os
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(eq=False)
class SourceFile:
    """One `.hm` file (or a command-line string) with its text normalised to LF line endings (D2)."""

    path: str
    text: str
    _line_starts: list[int] | None = field(default=None, repr=False)

    @classmethod
    def read(cls, path: str | Path) -> SourceFile:
        raw = Path(path).read_bytes().decode("utf-8", errors="replace")
        return cls(str(path), normalize_newlines(raw))

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


def normalize_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


@dataclass(frozen=True, slots=True)
class Span:
    """A half-open range of character offsets in one source file."""

    file: SourceFile = field(compare=False, hash=False)
    start: int
    end: int

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
