"""Turns Lark's parse exceptions into `ParseError`s with words instead of terminal names, and known fixes."""

from __future__ import annotations

import re

from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from hypermetric.errors import ParseError
from hypermetric.source import SourceFile, Span

TERMINAL_WORDS = {
    "NAME": "identifier", "DOTTED": "dotted name", "UNQUOTED": "unquoted string", "NAME_FS": "name@fs",
    "QSTRING": "quoted string", "QSTRING_FS": "quoted string with @fs", "REF": "reference `$name`",
    "DOLLAR": "`$`", "INDEX_OUTPUT": "`].output`", "CMD": "inline command", "STAR": "`*`",
    "SCRIPT": "script block", "MEMBERS": "member block", "_DEDENT": "end of block", "$END": "end of file",
    "_EQ": "`=`", "_COMMA": "`,`", "_COLON": "`:`", "_ARROW": "`->`", "_LPAR": "`(`", "_RPAR": "`)`",
    "_LBRACE": "`{`", "_RBRACE": "`}`", "_LSQB": "`[`", "_RSQB": "`]`", "_AT": "`@`", "_ATAT": "`@@`",
}
_KEYWORDS = {"IMPORT", "AS", "DEF", "TASK", "EPHEMERAL", "PLAN", "PACKAGE", "CLASS", "OBJECT"}
_NAMED_OUTPUT = re.compile(r"->\s*[\w.@]+\s*=\s*\Z")
_VALUE_START = {"UNQUOTED", "NAME", "DOTTED", "QSTRING", "QSTRING_FS", "_LBRACE", "REF"}


def describe_terminal(name: str) -> str:
    if name in _KEYWORDS:
        return f"keyword `{name.lower()}`"
    return TERMINAL_WORDS.get(name, name.lower())


def convert(exc: UnexpectedInput, source: SourceFile) -> ParseError:
    """The one place where Lark's exceptions become user diagnostics."""
    if isinstance(exc, UnexpectedToken):
        return _unexpected_token(exc, source)
    if isinstance(exc, UnexpectedEOF):
        at = len(source.text)
        return ParseError(f"unexpected end of file, expected {_expected(exc.expected)}", Span(source, at, at))
    if isinstance(exc, UnexpectedCharacters):
        at = exc.pos_in_stream or 0
        return ParseError(f"unexpected character `{source.text[at]}`", Span(source, at, at + 1))
    return ParseError(str(exc))


def _expected(names) -> str:
    """`a`, `b`, or identifier: the words for what the parser could have taken here."""
    words = sorted({describe_terminal(n) for n in names if n != "$END"})
    if not words:
        return "end of file"
    if len(words) > 6:
        return ", ".join(words[:6]) + ", ..."
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + f", or {words[-1]}"


def _unexpected_token(exc: UnexpectedToken, source: SourceFile) -> ParseError:
    tok = exc.token
    kind = tok.type
    start = tok.start_pos if tok.start_pos is not None else len(source.text)
    end = max(tok.end_pos or start, start + (1 if kind != "$END" else 0))
    span = Span(source, start, end)
    expected = set(exc.expected)
    found = "end of file" if kind == "$END" else f"{describe_terminal(kind)}"
    if kind in ("NAME", "DOTTED", "UNQUOTED") and tok.value:
        found = f"`{tok.value}`"
    message = f"unexpected {found}, expected {_expected(expected)}"
    return ParseError(message, span, help=_help(kind, expected, tok, source))


def _help(kind: str, expected: set[str], tok, source: SourceFile) -> str | None:
    """Likely fixes for the common mistakes."""
    if kind == "_COLON" and "SCRIPT" in expected | {"SCRIPT"} and _line_rest(source, tok.end_pos):
        return "a script starts on the line after the `:`, indented"
    if "SCRIPT" in expected and kind in ("NAME", "UNQUOTED", "DOTTED", "$END", "_DEDENT"):
        return "add `:` at the end of the header, then the indented script"
    if kind in ("_COLON", "SCRIPT", "_EQ") and "NAME_FS" in expected and _after_arrow(source, tok.start_pos):
        return "`->` must be followed by outputs: `-> out` or `-> (a, b=\"file\")`"
    if kind in _VALUE_START and _NAMED_OUTPUT.search(source.text, 0, tok.start_pos or 0):
        return "write named outputs in parentheses: `-> (out=\"file.txt\")`"
    if kind in _KEYWORDS and "_EQ" in expected:
        return f"`{tok.value}` is a keyword; quote it or choose another name"
    return None


def _line_rest(source: SourceFile, pos: int | None) -> bool:
    if pos is None:
        return False
    end = source.text.find("\n", pos)
    rest = source.text[pos:] if end == -1 else source.text[pos:end]
    return bool(rest.split("#", 1)[0].strip())


def _after_arrow(source: SourceFile, pos: int | None) -> bool:
    """Whether the token at `pos` directly follows `->`."""
    return pos is not None and source.text[max(0, pos - 200):pos].rstrip().endswith("->")
