"""Syntax errors: position, message and help (what a user sees), never a Lark exception."""

from __future__ import annotations

import pytest

from hypermetric.diagnostic import render
from hypermetric.errors import ParseError
from hypermetric.syntax import parse_target, parse_text

ERRORS = [
    # (source, line, col, message fragment, help fragment or None)
    ("v = a/b\n", 1, 6, "unexpected character `/`", "quoted"),
    ("task = 1\n", 1, 6, "unexpected `=`", None),
    ("v = \"\\q\"\n", 1, 6, "invalid escape `\\q`", "valid escapes"),
    ("v = \"p\" @s3\n", 1, 10, "unexpected end of file", None),
    ("v = p@s3\n", 1, 5, "unexpected name@fs", None),
    ("task t: echo hi\n", 1, 7, "unexpected `:`", "line after the `:`"),
    ("task t:\n  a\n# c\n  b\n", 4, 3, "unexpected end of file", None),
    ("task t:\n\techo\n", 2, 1, "tab in indentation", "spaces"),
    ("-> out=\"f\"\n", 1, 1, "unexpected", None),
    ("task t -> out=\"f\":\n  x\n", 1, 15, "unexpected quoted string", "parentheses"),
    ("def f:\n  x\n", 1, 6, "unexpected script block, expected `(`", None),
    ("class c:\n  x = 1\n", 1, 8, "unexpected member block", None),
    ("v = $v[A: x]\n", 1, 12, "unexpected `]`", None),
    ("task t -> out\n  echo\n", 2, 3, "unexpected `echo`", "add `:`"),
    ("x = {A: a b\n", 1, 5, "this `{` was never closed before the end of the file", "close it with `}`"),
    ("task t ->:\n  echo\n", 1, 10, "unexpected script block", "`->` must be followed by outputs"),
    ("task t:\n", 1, 7, "expected an indented script block", None),
    ("object o:\nx = 1\n", 1, 9, "expected an indented block of members", None),
    ("x = \"abc\n", 1, 5, "unterminated string", None),
    ("x = {A: `ls}\n", 1, 9, "unterminated inline command", None),
]


@pytest.mark.parametrize("src,line,col,message,help", ERRORS, ids=[e[0] for e in ERRORS])
def test_error(src, line, col, message, help):
    with pytest.raises(ParseError) as info:
        parse_text(src, "main.hm")
    diag = info.value.diagnostic
    assert (diag.span.line, diag.span.column) == (line, col), render(diag)
    assert message in diag.message
    if help:
        assert diag.help and help in diag.help, render(diag)


def test_rendered_error_has_header_line_and_caret():
    with pytest.raises(ParseError) as info:
        parse_text("a = 1\nv = a/b\n", "main.hm")
    assert render(info.value.diagnostic) == (
        "main.hm:2:6: error: unexpected character `/`\n"
        "  |\n"
        "2 | v = a/b\n"
        "  |      ^\n"
        "   = help: paths, URLs and other text with this character must be quoted"
    )


@pytest.mark.parametrize("text", ["t[A: ]", "t[A x]", "[A: x]", "t[A: x", "t x", "t[A: x].out"])
def test_bad_targets(text):
    with pytest.raises(ParseError):
        parse_target(text)
