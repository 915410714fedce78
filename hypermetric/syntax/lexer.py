"""The `.hm` lexer: grammar terminals plus indentation, verbatim script blocks and member blocks.

Design. Lark's own lexers cannot capture a task body as raw text: bash would be tokenised as `.hm` and
an apostrophe in `don't` would end the parse. So this lexer scans with the terminal patterns of
`grammar/hypermake.lark` and, where the grammar needs context, decides itself:

* a `:` that ends its line (only spaces or a comment may follow) outside brackets opens a block. After a
  `task`/`package`/`def` header it is a script block: the following lines indented deeper than the
  enclosing block are captured, dedented by the first line's indentation, as ONE `SCRIPT` token (blank
  lines inside are kept, as the script may need them; trailing ones dropped). After `object`/`class` it is a
  member block: `MEMBERS`, the member statements, and `_DEDENT` when a line is indented less than the block
  (a comment-only line never ends a block, wherever it starts);
* a bracket left open when the file ends, or when a statement keyword starts a line, is reported at the
  bracket, which is where the mistake is;
* NUL, lone surrogates and bytes that are not UTF-8 are rejected before any token, at their place;
* words are classified as keyword, `NAME`, `DOTTED` or `UNQUOTED`;
* tabs are whitespace between tokens but an error in an indentation prefix (their width is ambiguous).
Newlines are ordinary whitespace otherwise.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from lark import Token
from lark.lexer import Lexer

from hypermetric.diagnostic import Label
from hypermetric.errors import ParseError
from hypermetric.source import SourceFile, Span

KEYWORDS = frozenset({"import", "as", "def", "task", "ephemeral", "plan", "package", "class", "object"})
SCRIPT_HEADERS = frozenset({"TASK", "PACKAGE", "DEF"})
MEMBER_HEADERS = frozenset({"CLASS", "OBJECT"})
STATEMENT_KEYWORDS = frozenset({"IMPORT", "DEF", "TASK", "EPHEMERAL", "PLAN", "PACKAGE", "CLASS", "OBJECT"})

# Terminals matched as they are, in priority order (Python alternation takes the first that matches).
_ORDERED = ("QSTRING_FS", "QSTRING", "REF", "DOLLAR", "INDEX_OUTPUT", "CMD", "_ARROW", "_ATAT", "NAME_FS")
_PUNCT = {"=": "_EQ", ",": "_COMMA", ":": "_COLON", "(": "_LPAR", ")": "_RPAR", "{": "_LBRACE",
          "}": "_RBRACE", "[": "_LSQB", "]": "_RSQB", "@": "_AT", "*": "STAR"}
_OPEN, _CLOSE = "([{", ")]}"
_WS = re.compile(r"(?:[ \t\f]+|\\\n|#[^\n]*)+")
_IDENT = re.compile(r"[^\W\d]\w*")
_DOTTED = re.compile(r"[^\W\d]\w*(?:\.[^\W\d]\w*)+")
_BLOCK_END = re.compile(r"[ \t]*(?:#[^\n]*)?(?:\n|$)")
_UNUSABLE = re.compile("[\0\ud800-\udfff]")


def check_characters(source: SourceFile) -> None:
    """Reject text no script could receive: bytes that are not UTF-8, NUL (it ends a C string, so the
    environment variable or file holding the value would be cut short) and lone surrogates (from
    command-line arguments that were not UTF-8)."""
    if source.not_utf8 is not None:
        at, what = source.not_utf8
        raise ParseError(f"the file is not UTF-8 text: {what}", Span(source, at, at + 1),
                         help="save the file as UTF-8 (a byte-order mark at the start is allowed)")
    bad = _UNUSABLE.search(source.text)
    if bad is None:
        return
    span = Span(source, bad.start(), bad.end())
    if bad.group() == "\0":
        raise ParseError("a NUL character (U+0000) cannot appear in a pipeline", span,
                         help="scripts and values reach the shell as C strings, which end at a NUL: "
                              "remove it")
    raise ParseError(f"U+{ord(bad.group()):04X} is not a character (text that is not UTF-8?)", span,
                     help="command-line arguments and files must be UTF-8 text")


def _compile(patterns: dict[str, str]) -> re.Pattern[str]:
    parts = [f"(?P<{name}>{patterns[name]})" for name in _ORDERED]
    parts.append(f"(?P<WORD>{patterns['UNQUOTED']})")
    return re.compile("|".join(parts))


class HmLexer(Lexer):
    """Custom Lark lexer (interface 0): `lex(source)` takes a `SourceFile` and yields Lark tokens."""

    def __init__(self, lexer_conf) -> None:  # noqa: ANN001 - Lark's LexerConf
        patterns = {t.name: t.pattern.to_regexp() for t in lexer_conf.terminals}
        self.master = _compile(patterns)

    def lex(self, source: SourceFile) -> Iterator[Token]:  # type: ignore[override]  # lexes our source, not Lark's state
        return _Scan(self.master, source).tokens()


class _Scan:
    """The state of one scan: position, open brackets, member-block indentation stack."""

    def __init__(self, master: re.Pattern[str], source: SourceFile) -> None:
        self.master = master
        self.source = source
        self.text = source.text
        self.pos = 0
        self.opened: list[int] = []         # offsets of the brackets still open
        self.blocks: list[int] = []         # indentation of each open member block
        self.header: str | None = None      # the last block-introducing keyword seen at depth 0

    def error(self, message: str, start: int, end: int | None = None, help: str | None = None) -> ParseError:
        return ParseError(message, Span(self.source, start, start + 1 if end is None else end), help=help)

    def token(self, kind: str, value: str, start: int, end: int) -> Token:
        # Spans are offsets; Lark's line/column fields are unused by hypermetric, so they stay cheap.
        return Token(kind, value, start, 1, start + 1, 1, end + 1, end)

    def tokens(self) -> Iterator[Token]:
        check_characters(self.source)
        text, n = self.text, len(self.text)
        yield from self.line_start()
        ws = _WS.match
        while True:
            m = ws(text, self.pos)
            if m:
                self.pos = m.end()
            if self.pos >= n:
                break
            c = text[self.pos]
            if c == "\n":
                self.pos += 1
                if not self.opened:
                    yield from self.line_start()
                continue
            yield from self.next_token(c)
        if self.opened:
            raise self.unclosed()
        for _ in self.blocks:
            yield self.token("_DEDENT", "", n, n)
        self.blocks.clear()

    def next_token(self, c: str) -> Iterator[Token]:
        start = self.pos
        if c == ":" and not self.opened:
            end = _BLOCK_END.match(self.text, start + 1)
            if end is not None:
                yield from self.block(start, end.end())
                return
        m = self.master.match(self.text, start)
        if m is None or m.end() == start:
            kind = _PUNCT.get(c)
            if kind is None:
                raise self.unexpected_char(start)
            self.pos = start + 1
            self.track_brackets(c, start)
            yield self.token(kind, c, start, start + 1)
            return
        kind, value = m.lastgroup or "", m.group()  # every alternative of the master pattern is named
        self.pos = m.end()
        if kind == "WORD":
            kind = self.classify(value)
        if self.opened and kind in STATEMENT_KEYWORDS and (start == 0 or self.text[start - 1] == "\n"):
            # A statement at the start of a line inside brackets: a bracket above was left open.
            raise self.unclosed(Label(Span(self.source, start, self.pos), "the next statement starts here"))
        if kind in SCRIPT_HEADERS or kind in MEMBER_HEADERS:
            if not self.opened:
                self.header = kind
        elif kind == "INDEX_OUTPUT" and self.opened:
            self.opened.pop()
        yield self.token(kind, value, start, self.pos)

    def classify(self, word: str) -> str:
        if word in KEYWORDS:
            return word.upper()
        if _IDENT.fullmatch(word):
            return "NAME"
        if _DOTTED.fullmatch(word):
            return "DOTTED"
        return "UNQUOTED"

    def track_brackets(self, c: str, at: int) -> None:
        if c in _OPEN:
            self.opened.append(at)
        elif c in _CLOSE and self.opened:
            self.opened.pop()

    def unclosed(self, next_statement: Label | None = None) -> ParseError:
        """The end of the text, or the next statement, came with a bracket still open: point at it."""
        at = self.opened[-1]
        bracket = self.text[at]
        closing = _CLOSE[_OPEN.index(bracket)]
        where = "the end of the file" if next_statement is None else "the next statement"
        return ParseError(f"this `{bracket}` was never closed before {where}", Span(self.source, at, at + 1),
                          labels=() if next_statement is None else (next_statement,),
                          help=f"close it with `{closing}`")

    def unexpected_char(self, pos: int) -> ParseError:
        c = self.text[pos]
        if c in "\"'":
            return self.error("unterminated string", pos, help="quoted strings end on the line they start on")
        if c == "`":
            return self.error("unterminated inline command", pos)
        if c == "\\":
            return self.error("stray backslash (a line continuation must end its line)", pos)
        return self.error(f"unexpected character `{c}`", pos,
                          help="paths, URLs and other text with this character must be quoted")

    # ------------------------------------------------------------------------------------------ blocks

    def block(self, colon: int, after: int) -> Iterator[Token]:
        header, self.header = self.header, None
        enclosing = self.blocks[-1] if self.blocks else 0
        if header in MEMBER_HEADERS:
            indent = self.member_indent(after, colon, enclosing)
            self.blocks.append(indent)
            self.pos = after
            yield self.token("MEMBERS", ":", colon, colon + 1)
            return
        if header not in SCRIPT_HEADERS:
            raise self.error("unexpected `:` at the end of the line", colon,
                             help="only task, package, def, class and object headers open a block")
        text, end, resume = self.capture_script(after, colon, enclosing)
        self.pos = resume
        yield self.token("SCRIPT", text, colon, end)
        yield from self.line_start()

    def member_indent(self, pos: int, colon: int, enclosing: int) -> int:
        line_start = self.next_significant_line(pos, skip_comments=True)
        indent = self.indentation(line_start) if line_start is not None else -1
        if indent <= enclosing:
            raise self.error("expected an indented block of members after `:`", colon,
                             help="indent the members of the object or class by at least one more space")
        return indent

    def capture_script(self, pos: int, colon: int, enclosing: int) -> tuple[str, int, int]:
        """Script text, end offset of its last line, and the offset where lexing resumes."""
        first = self.next_significant_line(pos, skip_comments=False)
        indent = self.indentation(first) if first is not None else -1
        if first is None or indent <= enclosing:
            raise self.error("expected an indented script block after `:`", colon,
                             help="write the script on the following lines, indented by at least "
                                  f"{enclosing + 2} spaces")
        text = self.text
        lines: list[str] = []
        pending_blank = 0
        end = resume = cursor = first
        while cursor < len(text):
            nl = text.find("\n", cursor)
            line_end = len(text) if nl == -1 else nl
            line = text[cursor:line_end]
            if not line.strip():
                pending_blank += 1
            elif line.startswith(" " * indent):
                lines.extend([""] * pending_blank)
                pending_blank = 0
                lines.append(line[indent:])
                end = line_end
                resume = line_end
            else:
                self.check_tabs(cursor, indent)
                break
            cursor = line_end + 1
        return "\n".join(lines), end, resume

    def next_significant_line(self, pos: int, skip_comments: bool) -> int | None:
        """Offset of the next line that is not blank (nor comment-only, if asked) at or after `pos`."""
        text = self.text
        while pos < len(text):
            nl = text.find("\n", pos)
            line = text[pos:] if nl == -1 else text[pos:nl]
            stripped = line.strip()
            if stripped and not (skip_comments and stripped.startswith("#")):
                return pos
            if nl == -1:
                return None
            pos = nl + 1
        return None

    def indentation(self, line_start: int) -> int:
        self.check_tabs(line_start, None)
        text = self.text
        i = line_start
        while i < len(text) and text[i] == " ":
            i += 1
        return i - line_start

    def check_tabs(self, line_start: int, limit: int | None) -> None:
        text = self.text
        i = line_start
        while i < len(text) and text[i] in " \t":
            if text[i] == "\t" and (limit is None or i - line_start < limit):
                raise self.error("tab in indentation", i, help="indent with spaces; tabs are only allowed "
                                                               "between tokens and inside scripts")
            i += 1

    def line_start(self) -> Iterator[Token]:
        """At the start of a line at bracket depth 0: close member blocks indented deeper than this line."""
        if not self.blocks:
            return
        line = self.next_significant_line(self.pos, skip_comments=True)
        indent = -1 if line is None else self.indentation(line)
        while self.blocks and indent < self.blocks[-1]:
            self.blocks.pop()
            at = self.pos if line is None else line
            yield self.token("_DEDENT", "", at, at)
