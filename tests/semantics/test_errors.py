"""Semantic errors as (line, column, message): every check points at the offending source."""

from __future__ import annotations

import pytest

from semantics.helpers import error

T = "task t(a=$a) -> out:\n  touch $out\n"
CASES = [
    # names
    ("x = $nope\n", (1, 5, "undefined name `nope`")),
    ("x = 1\nx = 2\n", (2, 1, "value `x` is defined more than once")),
    ("task t -> o:\n  true\ntask t -> o:\n  true\n", (3, 1, "task `t` is defined more than once")),
    ("def f() -> o:\n  true\ndef f() -> o:\n  true\n", (3, 1, "function `f` is defined more than once")),
    ("a = $b\nb = $a\n", (1, 5, "reference cycle: a -> b -> a")),
    ("x = $u[A: x].o\n", (1, 5, "undefined task `u`")),
    ("object o = k()\n", (1, 12, "undefined class `k`")),
    ("class c(a):\n  x = 1\nobject o = c(b=1)\n", (3, 14, "class `c` has no parameter `b`")),
    ("class c(a):\n  x = 1\nobject o = c(a=1, a=2)\n", (3, 19, "argument `a` is given more than once")),
    # axes and indices
    ("a = {A: x y}\nb = {A: y x}\n", (2, 6, "axis `A` is declared as { y x } here but as { x y } elsewhere")),
    ("a = {A: x y}\n" + T + "u = $t[A: w].out\n", (4, 8, "axis `A` has no key `w`")),
    ("a = {A: x y}\n" + T + "u = $t[B: w].out\n", (4, 8, "undefined axis `B`")),
    ("a = {A: x y}\nb = {B: 1}\n" + T + "u = $t[B: 1].out\n", (5, 8, "task `t` does not vary over axis `B`")),
    ("a = {A: x y}\n" + T + "u = $t[A: x, A: y].out\n", (4, 14, "axis `A` is indexed more than once")),
    # tasks
    ("task t(x) -> o:\n  true\n", (1, 8, "input `x` has no value")),
    ("task t(x=1, x=2) -> o:\n  true\n", (1, 13, "input `x` is declared more than once")),
    ("task t(stderr=1) -> o:\n  true\n", (1, 8, "`stderr` is reserved for the job directory and cannot name an input")),
    ("task u -> o:\n  true\npackage p(x=$u.o) -> out:\n  true\n", (3, 13, "package `p` depends on task `u`")),
    ("object s:\n  root = r\ntask t@s -> o:\n  true\n", (3, 1, "file system `s` cannot run task `t`: it has no function `execute`")),
    ('task t(x="f"@nowhere) -> o:\n  true\n', (1, 10, "undefined file system `nowhere`")),
]


@pytest.mark.parametrize("src, expected", CASES, ids=[c[1][2] for c in CASES])
def test_error_positions(tmp_path, src, expected):
    assert error(tmp_path, src) == expected
