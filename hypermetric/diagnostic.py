"""Diagnostics: one user-facing message with spans, and the only code that renders `file:line:col` snippets."""

from __future__ import annotations

from hypermetric.record import Record, setfield
from hypermetric.source import Span


class Label(Record):
    """A secondary span with a short note (`first defined here`)."""

    __slots__ = ("span", "message")
    span: Span
    message: str

    def __init__(self, span: Span, message: str) -> None:
        setfield(self, "span", span)
        setfield(self, "message", message)


class Diagnostic(Record):
    """One error, warning or note: its message, where (a span), secondary labels, notes and a hint."""

    __slots__ = ("message", "span", "labels", "notes", "help", "severity")
    message: str
    span: Span | None
    labels: tuple[Label, ...]
    notes: tuple[str, ...]
    help: str | None
    severity: str

    def __init__(self, message: str, span: Span | None = None, labels: tuple[Label, ...] = (),
                 notes: tuple[str, ...] = (), help: str | None = None, severity: str = "error") -> None:
        setfield(self, "message", message)
        setfield(self, "span", span)
        setfield(self, "labels", labels)
        setfield(self, "notes", notes)
        setfield(self, "help", help)
        setfield(self, "severity", severity)


_CODES = {
    "error": "\x1b[1;31m", "warning": "\x1b[1;33m", "note": "\x1b[1;36m", "help": "\x1b[1;32m",
    "gutter": "\x1b[1;34m", "bold": "\x1b[1m",
}


class _Style:
    """The terminal codes of each part of a rendered diagnostic (none without colour)."""

    def __init__(self, color: bool) -> None:
        self.color = color
        self.codes = _CODES

    def __call__(self, kind: str, text: str) -> str:
        return f"{self.codes[kind]}{text}\x1b[0m" if self.color else text


def render(diag: Diagnostic, color: bool = False) -> str:
    """Render a diagnostic as `path:line:col: error: message`, the source line and carets, then notes/help."""
    style = _Style(color)
    head = f"{style(diag.severity, diag.severity + ':')} {style('bold', diag.message)}"
    out: list[str] = []
    if diag.span is not None:
        out.append(f"{diag.span.location()}: {head}")
        out.extend(_snippet(diag.span, style))
    else:
        out.append(head)
    for label in diag.labels:
        out.append(f"{label.span.location()}: {style('note', 'note:')} {label.message}")
        out.extend(_snippet(label.span, style))
    for note in diag.notes:
        out.append(f"   = {style('note', 'note:')} {note}")
    if diag.help:
        out.append(f"   = {style('help', 'help:')} {diag.help}")
    return "\n".join(out)


def _snippet(span: Span, style: _Style) -> list[str]:
    line, col = span.file.position(span.start)
    end_line, end_col = span.file.position(max(span.start, span.end))
    text = span.file.line_text(line)
    width = (end_col - col) if end_line == line else max(1, len(text) - col + 1)
    prefix = _expand_tabs(text[: col - 1])
    marked = _expand_tabs(text[: col - 1 + max(width, 0)])
    carets = "^" * max(1, len(marked) - len(prefix))
    gutter = " " * len(str(line))
    bar = style("gutter", f"{gutter} |")
    return [
        bar,
        f"{style('gutter', f'{line} |')} {_expand_tabs(text)}",
        f"{bar} {' ' * len(prefix)}{style('error', carets)}",
    ]


def _expand_tabs(text: str) -> str:
    return text.expandtabs(4)
