"""The parser's hard edges: what it accepts, a script can receive; anything else is a located error."""

from __future__ import annotations

import pytest

from hypermetric.diagnostic import render
from hypermetric.errors import ParseError
from hypermetric.source import SourceFile
from hypermetric.syntax import parse, parse_target, parse_text


def _value(source: str) -> str:
    return parse_text(source, "main.hm").statements[0].value.value


def _error(source: str | SourceFile) -> ParseError:
    with pytest.raises(ParseError) as info:
        parse(source) if isinstance(source, SourceFile) else parse_text(source, "main.hm")
    return info.value


# ------------------------------------------------------------------------------------------------- escapes

@pytest.mark.parametrize("escaped,decoded", [
    ('"a\\ud83d\\ude00"', "a\U0001F600"),
    ('"\\uD83D\\uDE00b"', "\U0001F600b"),
    ("'\\u00e9'", "\u00e9"),
    ('"\\uffff"', "\uffff"),
])
def test_unicode_escapes_decode_like_java(escaped, decoded):
    assert _value(f"x = {escaped}\n") == decoded


@pytest.mark.parametrize("source,col,message", [
    ('x = "e\\ud800f"\n', 7, "`\\ud800` is the first half of a surrogate pair, without the second"),
    ('x = "\\udbff\\u0041"\n', 6, "`\\udbff` is the first half"),
    ('x = "\\ud83d"\n', 6, "`\\ud83d` is the first half"),
    ('x = "a\\ude00"\n', 7, "`\\ude00` is the second half of a surrogate pair, without the first"),
    ('x = "\\u0000"\n', 6, "`\\u0000` (NUL) cannot appear in a value"),
    ('x = {A: "\\u0000" b}\n', 10, "(NUL)"),
])
def test_escapes_no_script_could_receive_are_located_errors(source, col, message):
    diag = _error(source).diagnostic
    assert (diag.span.line, diag.span.column) == (1, col), render(diag)
    assert message in diag.message and diag.help


def test_a_surrogate_escape_error_marks_the_whole_escape():
    assert render(_error('x = "e\\ud800f"\n').diagnostic).splitlines()[1:4] == [
        "  |",
        '1 | x = "e\\ud800f"',
        "  |       ^^^^^^",
    ]


# ------------------------------------------------------------------------------------ characters and bytes

def test_a_literal_nul_is_a_located_error():
    diag = _error("x = 1\ntask t:\n  echo a\0b\n").diagnostic
    assert (diag.span.line, diag.span.column) == (3, 9) and "NUL" in diag.message


def test_a_lone_surrogate_from_the_command_line_is_a_located_error():
    with pytest.raises(ParseError) as info:
        parse_target("t[A: caf\udce9]")
    assert "U+DCE9 is not a character" in info.value.diagnostic.message
    assert info.value.diagnostic.span.column == 9


def test_a_byte_order_mark_is_dropped_like_crlf(tmp_path):
    path = tmp_path / "main.hm"
    path.write_bytes(b"\xef\xbb\xbfx = 1\r\ny = 2\r\n")
    source = SourceFile.read(path)
    assert source.text == "x = 1\ny = 2\n"
    assert [s.path for s in parse(source).statements] == ["x", "y"]


@pytest.mark.parametrize("data,line,col,byte", [
    (b'x = "caf\xe9"\n', 1, 9, "0xE9"),
    (b"x = 1\r\ny = \xff\n", 2, 5, "0xFF"),
    (b"\xef\xbb\xbfx = \xc3\n", 1, 5, "0xC3"),
    (b"x = 1\ntask t:\n  echo \xed\xa0\x80\n", 3, 8, "0xED"),  # an encoded surrogate is not UTF-8 either
])
def test_a_file_that_is_not_utf8_is_a_located_error(tmp_path, data, line, col, byte):
    path = tmp_path / "main.hm"
    path.write_bytes(data)
    diag = _error(SourceFile.read(path)).diagnostic
    assert (diag.span.line, diag.span.column) == (line, col), render(diag)
    assert diag.message.startswith(f"the file is not UTF-8 text: byte {byte}")
    assert "UTF-8" in diag.help


# ------------------------------------------------------------------------------------------ open brackets

@pytest.mark.parametrize("source,line,col,bracket,closing", [
    ("x = {A: 1 2", 1, 5, "{", "}"),
    ("x = {A: 1 2\n", 1, 5, "{", "}"),
    ("x = {A: a b=$t[A: a", 1, 15, "[", "]"),
    ("x = $t[A: 1 ", 1, 7, "[", "]"),
    ("task t(a=1,\n  b=2\n", 1, 7, "(", ")"),
    ("x = {A: 1 b={B: 2\n  3}\n", 1, 5, "{", "}"),
])
def test_an_unclosed_bracket_at_the_end_names_that_bracket(source, line, col, bracket, closing):
    diag = _error(source).diagnostic
    assert (diag.span.line, diag.span.column) == (line, col), render(diag)
    assert diag.message == f"this `{bracket}` was never closed before the end of the file"
    assert diag.help == f"close it with `{closing}`"


def test_a_statement_inside_an_unclosed_bracket_points_at_the_bracket():
    diag = _error("x = {A: 1 2\ntask t(x=$) -> o:\n  echo $x > $o\n").diagnostic
    assert (diag.span.line, diag.span.column) == (1, 5)
    assert diag.message == "this `{` was never closed before the next statement"
    assert [(label.span.line, label.span.column) for label in diag.labels] == [(2, 1)]


def test_a_keyword_inside_brackets_but_not_at_line_start_keeps_its_own_message():
    diag = _error("x = {A: 1 task}\n").diagnostic
    assert "unexpected keyword `task`" in diag.message and "quote it" in diag.help


def test_multi_line_brackets_still_parse():
    module = parse_text("x = {A: 1\n  2\n  3}\ntask t(\n  a=$x\n) -> o:\n  echo\n", "main.hm")
    assert [type(s).__name__ for s in module.statements] == ["ValDef", "TaskDef"]
