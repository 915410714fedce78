"""`-D path=value` overrides: each value is a HyperMake expression that replaces the definition at `path`.

A value starting with `{`, `$` or a quote is parsed like the right-hand side of `path = value` in a file (a
dict such as `{Model: bm25 dpr}` widens or narrows a sweep, `$other` refers to another value, `"a b"` is a
quoted string); anything else is taken verbatim as a plain string, the way an unquoted literal reads, so
`-D local.root=/tmp/o` and `-D opts=a=b` need no quoting. Each override is kept as the text `path=value` in a
source of its own, so its errors point into what was typed on the command line.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from hypermetric.errors import ParseError
from hypermetric.source import SourceFile, Span
from hypermetric.syntax import ast, check_text, parse

SOURCE_NAME = "-D"
_EXPRESSION_STARTS = ("{", "$", '"', "'")
# Values the pipeline need not define itself: their defaults are built in.
SETTINGS = frozenset({"local.root", "local.max_file_name_length"})
_ONE_EXPRESSION = "a `-D` value must be one HyperMake expression"
_QUOTE = "a string, a dict such as `{Model: a b}` or a reference such as `$lr`; quote spaces: -D 'x=\"a b\"'"


@dataclass(frozen=True, slots=True)
class Define:
    """One override: the value's dotted path, its expression, and where each was typed."""

    path: str
    expr: ast.Expr
    span: Span          # the value
    name_span: Span     # the path


def parse_defines(defines: Mapping[str, str]) -> dict[str, Define]:
    """The overrides by path, each value parsed (see the module docstring)."""
    return {path: parse_define(path, text) for path, text in defines.items()}


def parse_define(path: str, text: str) -> Define:
    source = SourceFile.from_text(f"{path}={text}", SOURCE_NAME)
    check_text(source)  # a value taken verbatim must still be one a script can receive
    name_span = Span(source, 0, len(path))
    value_span = Span(source, len(path) + 1, len(source.text))
    if not _is_path(path):
        raise ParseError(f"`{path}` is not a value name", name_span,
                         help="write -D name=value, where name is a value such as `lr` or `local.root`")
    if not text.lstrip().startswith(_EXPRESSION_STARTS):
        return Define(path, ast.StrLit(text, span=value_span), value_span, name_span)
    try:
        statements = parse(source).statements
    except ParseError as e:
        raise ParseError(_ONE_EXPRESSION, e.diagnostic.span or value_span, notes=[e.diagnostic.message],
                         help=_QUOTE) from None
    if len(statements) != 1 or not isinstance(statements[0], ast.ValDef) or statements[0].path != path:
        raise ParseError(_ONE_EXPRESSION, value_span, help=_QUOTE)
    expr = statements[0].value
    return Define(path, expr, getattr(expr, "span", None) or value_span, name_span)


def _is_path(path: str) -> bool:
    return all(part.isidentifier() for part in path.split("."))
