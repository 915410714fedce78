"""What a user sees for each kind of mistake: the whole stderr, exit code 2, never a traceback."""

from __future__ import annotations

import textwrap

import pytest

CASES = [
    (
        "syntax",
        "a = 1\nv = a/b\n",
        ["list"],
        """
        main.hm:2:6: error: unexpected character `/`
          |
        2 | v = a/b
          |      ^
           = help: paths, URLs and other text with this character must be quoted
        """,
    ),
    (
        "undefined name",
        "data = {Dataset: nq fiqa}\ntask t(d=$dat) -> o:\n  echo\n",
        ["list"],
        """
        main.hm:2:10: error: undefined name `dat`
          |
        2 | task t(d=$dat) -> o:
          |          ^^^^
           = help: did you mean `data`?
        """,
    ),
    (
        "misaligned axis",
        "a = {A: x y}\nb = {A: y x}\n",
        ["list"],
        """
        main.hm:2:6: error: axis `A` is declared as { y x } here but as { x y } elsewhere
          |
        2 | b = {A: y x}
          |      ^^^^^^
        main.hm:1:6: note: first declared here as { x y }
          |
        1 | a = {A: x y}
          |      ^^^^^^
           = help: every dict on an axis must list the same keys in the same order
        """,
    ),
    (
        "unknown key in target",
        "a = {A: x y}\ntask t(a=$) -> o:\n  echo\n",
        ["dry-run", "t[A: q]"],
        None,
    ),
    (
        "unknown target",
        "task train -> o:\n  echo\n",
        ["run", "trian"],
        None,
    ),
    (
        "reference cycle",
        "a = $b\nb = $a\ntask t(x=$a) -> o:\n  echo\n",
        ["list"],
        """
        main.hm:1:5: error: reference cycle: a -> b -> a
          |
        1 | a = $b
          |     ^^
        main.hm:2:5: note: `b` refers to `a` here
          |
        2 | b = $a
          |     ^^
        """,
    ),
]


@pytest.mark.parametrize("name,source,args,expected", CASES, ids=[c[0] for c in CASES])
def test_user_errors(project, name, source, args, expected):
    project.write("main.hm", source)
    result = project.run(*args).user_error()
    if expected is not None:
        assert result.err.strip() == textwrap.dedent(expected).strip()
    else:
        assert ": error: " in result.err and "^" in result.err


def test_unknown_target_suggests(project):
    project.write("main.hm", "task train -> o:\n  echo\n")
    result = project.run("run", "trian").user_error()
    assert "did you mean `train`?" in result.err


def test_bad_options_exit_2(project):
    project.write("main.hm", "task t -> o:\n  echo\n")
    assert project.run("run", "t", "--jobs=abc").code == 2
    assert project.run("bogus").code == 2
    assert project.run("run", "t", "--backend", "slurm").user_error()
    result = project.run("run", "t", "-D", "novalue").user_error()
    assert "invalid definition" in result.err


def test_missing_file(project):
    result = project.run("list", "nope.hm").user_error()
    assert "nope.hm does not exist" in result.err


def test_subprocess_exit_code_and_no_traceback(project):
    project.write("main.hm", "task t(x=$nope) -> o:\n  echo\n")
    result = project.sh("list")
    assert result.code == 2 and "Traceback" not in result.err and "undefined name `nope`" in result.err
