"""A job's output is handed on line by line as it comes, `\r`-redrawn progress lines included."""

from __future__ import annotations

from hypermetric.execution.pump import _lines


def test_carriage_return_lines_come_at_once_and_crlf_is_one_line_end() -> None:
    partial = {0: b""}
    chunks = [b"load 10%\r", b"\nload 20%\rload 30%\rdone", b"\r", b"x\r\n", b"y\n", b"tail"]
    got = [_lines(partial, 0, chunk) for chunk in chunks]
    assert got == [[b"load 10%\r"], [b"load 20%\r", b"load 30%\r"], [b"done\r"], [b"x"], [b"y"], []]
    assert partial[0] == b"tail"
