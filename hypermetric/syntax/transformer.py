"""Turns Lark's parse tree into AST dataclasses with spans (no name lookup, no I/O)."""

from __future__ import annotations

from lark import Token, Tree

from hypermetric.errors import ParseError
from hypermetric.source import SourceFile, Span
from hypermetric.syntax import ast

_ESCAPES = {"b": "\b", "t": "\t", "n": "\n", "f": "\f", "r": "\r", '"': '"', "'": "'", "\\": "\\"}


class ToAst:
    """One method per grammar rule, named after it; each returns an AST node or a plain value."""

    def __init__(self, source: SourceFile) -> None:
        self.source = source

    def __call__(self, node: Tree | Token | None):
        if isinstance(node, Tree):
            return getattr(self, node.data)(node, *node.children)
        return node

    def span(self, node: Tree | Token) -> Span:
        """From the node's first token to its last (the tree carries no positions of its own)."""
        first = _edge_token(node, 0)
        if first is None:
            return Span(self.source, 0, 0)
        last = _edge_token(node, -1) or first
        return Span(self.source, _start(first), _end(last))

    def all(self, items) -> tuple:
        return tuple(self(i) for i in items)

    # ------------------------------------------------------------------------------------ top level
    def start(self, node: Tree, *statements: Tree) -> ast.Module:
        return ast.Module(self.all(statements), self.span(node))

    def target(self, node: Tree, ref: Tree) -> ast.TaskRef:
        return self(ref)

    def import_file(self, node: Tree, _kw: Token, path: Token, _as: Token | None, alias: Token | None):
        return ast.ImportFile(self.string_value(path), _text(alias), self.span(node))

    def import_module(self, node: Tree, _kw: Token, path: Tree, _as: Token | None, alias: Token | None):
        return ast.ImportModule(self(path), _text(alias), self.span(node))

    def valdef(self, node: Tree, path: Tree, expr: Tree) -> ast.ValDef:
        return ast.ValDef(self(path), self(expr), self.span(node))

    def funcdef(self, node: Tree, _kw: Token, name: Token, params: Tree, outputs, script: Tree):
        return ast.FuncDef(str(name), self(params), self.outputs(outputs), self(script), self.span(node))

    def taskdef(self, node: Tree, decos: Tree, ephemeral, _kw, name: Tree, params, outputs, body: Tree):
        task_name, fs = self(name)
        return ast.TaskDef(task_name, self(params) if params is not None else (), self.outputs(outputs),
                           self(body), self(decos), ephemeral is not None, fs, self.span(node))

    def pkgdef(self, node: Tree, decos: Tree, _kw, name: Token, params, output, body: Tree):
        out = None
        if output is not None:
            out_name, fs = self(output)
            out = ast.Param(out_name, fs, None, False, self.span(output))
        return ast.PackageDef(str(name), self(params) if params is not None else (), out, self(body),
                              self(decos), self.span(node))

    def plandef(self, node: Tree, _kw, name: Token, *targets: Tree) -> ast.PlanDef:
        return ast.PlanDef(str(name), self.all(targets), self.span(node))

    def classdef(self, node: Tree, _kw, name: Token, params: Tree, body: Tree) -> ast.ClassDef:
        return ast.ClassDef(str(name), self(params), self(body), self.span(node))

    def objdef(self, node: Tree, _kw, name: Token, body: Tree) -> ast.ObjectDef:
        return ast.ObjectDef(str(name), self(body), self.span(node))

    def decorators(self, node: Tree, *items) -> tuple[ast.Decorator, ...]:
        return tuple(self(i) for i in items if i is not None)

    def decorator(self, node: Tree, path: Tree, params) -> ast.Decorator:
        return ast.Decorator(self(path), self(params) if params is not None else None, False, self.span(node))

    def runner(self, node: Tree, path: Tree, params) -> ast.Decorator:
        return ast.Decorator(self(path), self(params) if params is not None else None, True, self.span(node))

    def body(self, node: Tree, item: Tree):
        return self(item)

    def script(self, node: Tree, token: Token) -> ast.Script:
        return ast.Script(str(token), self.span(token))

    def members(self, node: Tree, _colon: Token, *statements: Tree) -> tuple:
        return self.all(statements)

    def call(self, node: Tree, path: Tree, *params) -> ast.Call:
        return ast.Call(self(path), tuple(self(p) for p in params if p is not None), self.span(node))

    # ------------------------------------------------------------------------------- parameter lists
    def params(self, node: Tree, *params) -> tuple[ast.Param, ...]:
        return tuple(self(p) for p in params if p is not None)

    def param(self, node: Tree, name: Tree, value) -> ast.Param:
        param_name, fs = self(name)
        span = self.span(node)
        if value is None:
            return ast.Param(param_name, fs, None, False, span)
        if isinstance(value, Token) and value.type == "DOLLAR":
            return ast.Param(param_name, fs, ast.Ref(param_name, span=self.span(value)), True, span)
        return ast.Param(param_name, fs, self(value), False, span)

    def single_output(self, node: Tree, name: Tree) -> tuple[ast.Param, ...]:
        out_name, fs = self(name)
        return (ast.Param(out_name, fs, None, False, self.span(node)),)

    def outputs(self, node) -> tuple[ast.Param, ...] | None:
        return None if node is None else self(node)

    def param_name(self, node: Tree, token: Token) -> tuple[str, str | None]:
        name, _, fs = str(token).partition("@")
        return name, fs or None

    def path(self, node: Tree, token: Token) -> str:
        return str(token)

    # ----------------------------------------------------------------------------------- expressions
    def string(self, node: Tree, token: Token) -> ast.StrLit:
        span = self.span(node)
        if token.type == "QSTRING":
            return ast.StrLit(self.string_value(token), True, None, span)
        if token.type == "QSTRING_FS":
            text = str(token)
            cut = text.rindex("@")
            quoted = Token("QSTRING", text[:cut], token.start_pos, token.line, token.column,
                           token.end_line, token.end_column, _start(token) + cut)
            return ast.StrLit(self.string_value(quoted), True, text[cut + 1:], span)
        return ast.StrLit(str(token), False, None, span)

    def dict(self, node: Tree, axis: Token, *rest) -> ast.DictLit:
        span = self.span(node)
        if len(rest) == 1 and isinstance(rest[0], Token) and rest[0].type == "CMD":
            return ast.DictLit(str(axis), (), str(rest[0])[1:-1], span)
        return ast.DictLit(str(axis), self.all(rest), None, span)

    def dict_entry(self, node: Tree, key: Tree, value) -> ast.DictEntry:
        text, quoted = self(key)
        return ast.DictEntry(text, self(value) if value is not None else None, quoted, self.span(node))

    def key(self, node: Tree, token: Token) -> tuple[str, bool]:
        if token.type == "QSTRING":
            return self.string_value(token), True
        return str(token), False

    def ref(self, node: Tree, token: Token, *rest) -> ast.Ref:
        path = str(token)[1:]
        if not rest:
            return ast.Ref(path, None, None, self.span(node))
        *indices, output = rest
        index = tuple(self(i) for i in indices if i is not None)
        return ast.Ref(path, index, str(output)[2:], self.span(node))

    def index(self, node: Tree, axis: Token, *keys) -> ast.AxisIndex:
        if len(keys) == 1 and isinstance(keys[0], Token) and keys[0].type == "STAR":
            return ast.AxisIndex(str(axis), None, self.span(node))
        return ast.AxisIndex(str(axis), tuple(self(k)[0] for k in keys), self.span(node))

    def taskref(self, node: Tree, path: Tree, *indices) -> ast.TaskRef:
        return ast.TaskRef(self(path), tuple(self(i) for i in indices if i is not None), self.span(node))

    # --------------------------------------------------------------------------------------- helpers
    def string_value(self, token: Token) -> str:
        """Decode a quoted string's C escapes, the fixed set HyperMake takes; any other escape is an error."""
        body = str(token)[1:-1]
        if "\\" not in body:
            return body
        out: list[str] = []
        i = 0
        while i < len(body):
            c = body[i]
            if c != "\\":
                out.append(c)
                i += 1
                continue
            nxt = body[i + 1]
            if nxt in _ESCAPES:
                out.append(_ESCAPES[nxt])
                i += 2
            elif nxt == "u" and _is_hex4(body[i + 2:i + 6]):
                char, width = self.unicode_escape(body, i, _start(token) + 1)
                out.append(char)
                i += width
            else:
                at = _start(token) + 1 + i
                raise ParseError(f"invalid escape `\\{nxt}` in a quoted string", Span(self.source, at, at + 2),
                                 help="valid escapes: \\b \\t \\n \\f \\r \\\" \\' \\\\ \\uHHHH (4 hex digits)")
        return "".join(out)

    def unicode_escape(self, body: str, i: int, offset: int) -> tuple[str, int]:
        """The character of the `\\uHHHH` at `body[i]` and how many characters of `body` it used. As in
        Java, a character beyond U+FFFF is written as its UTF-16 surrogate pair, `\\ud83d\\ude00`."""
        code, written = int(body[i + 2:i + 6], 16), body[i:i + 6]
        at = offset + i
        if code == 0:
            raise ParseError(f"`{written}` (NUL) cannot appear in a value", Span(self.source, at, at + 6),
                             help="scripts receive values as C strings, which end at a NUL")
        if 0xDC00 <= code <= 0xDFFF:
            raise ParseError(f"`{written}` is the second half of a surrogate pair, without the first",
                             Span(self.source, at, at + 6), help=_PAIR_HELP)
        if code < 0xD800 or code > 0xDBFF:
            return chr(code), 6
        low = body[i + 6:i + 12]
        if not (low.startswith("\\u") and _is_hex4(low[2:]) and 0xDC00 <= int(low[2:], 16) <= 0xDFFF):
            raise ParseError(f"`{written}` is the first half of a surrogate pair, without the second",
                             Span(self.source, at, at + 6), help=_PAIR_HELP)
        return chr(0x10000 + ((code - 0xD800) << 10) + (int(low[2:], 16) - 0xDC00)), 12


def _edge_token(node, end: int) -> Token | None:
    """The first (`end=0`) or last (`end=-1`) token under `node`, skipping empty placeholders."""
    if isinstance(node, Token):
        return node
    children = node.children if end == 0 else reversed(node.children)
    for child in children:
        if child is not None:
            found = _edge_token(child, end)
            if found is not None:
                return found
    return None


_PAIR_HELP = ("write the character itself, or both halves of its UTF-16 surrogate pair "
              "(`\\ud83d\\ude00` for U+1F600)")


def _is_hex4(text: str) -> bool:
    return len(text) == 4 and all(c in "0123456789abcdefABCDEF" for c in text)


def _text(token: Token | None) -> str | None:
    return None if token is None else str(token)


# Our lexer gives every token its offsets; Lark's type allows None for tokens made without them.
def _start(token: Token) -> int:
    return token.start_pos or 0


def _end(token: Token) -> int:
    return token.end_pos if token.end_pos is not None else _start(token) + len(token)
