"""Targets and plans: what a command line's targets expand to, and the errors for targets that name nothing."""

from __future__ import annotations

import pytest
from semantics.helpers import load, targets, write

from hypermetric import api
from hypermetric.errors import HmError, TargetError

SRC = """
a = {A: x y z}
b = {B: 1 2}
c = {C: only}
task t(a=$, b=$) -> o:
  touch $o
task u(a=$) -> o:
  touch $o
object o:
  task v -> z:
    touch $z
  plan Inner = { v }
plan P = { t[A: y], u }
plan Q = { P, o.v }
"""


@pytest.fixture
def pipeline(tmp_path):
    return load(tmp_path, SRC)


@pytest.mark.parametrize("target, ids", [
    ("t", ["t"]),  # 68: only the all-default job
    ("t[A: *]", ["t", "t?A=y", "t?A=z"]),
    ("t[A: x y, B: *]", ["t", "t?B=2", "t?A=y", "t?A=y&B=2"]),
    ("t[A: z y]", ["t?A=y", "t?A=z"]),
    ("t[C: only]", ["t"]),  # an axis the task lacks is ignored when declared somewhere
    ("u[A: y, B: *]", ["u?A=y"]),
    ("o.v", ["o/v"]),
    ("P", ["t?A=y", "u"]),  # 69: a plan expands to its targets
    ("Q", ["t?A=y", "u", "o/v"]),
    ("o.Inner", ["o/v"]),
], ids=lambda v: v if isinstance(v, str) else None)
def test_targets(pipeline, target, ids):
    assert api.plan(pipeline, [target]).targets == ids


def test_equal_jobs_are_merged(pipeline):
    assert api.plan(pipeline, ["t", "t[A: x]", "P", "t[A: y]"]).targets == ["t", "t?A=y", "u"]


def test_get_path_is_the_absolute_job_directory(pipeline, tmp_path):
    (job,) = targets(api.plan(pipeline, ["t[A: y]"]))
    assert job.workdir == f"{tmp_path}/out/t/A=y"


def test_root_override(pipeline, tmp_path):
    graph = api.plan(pipeline, ["t"], root_override="elsewhere")
    assert graph.root == f"{tmp_path}/elsewhere"
    assert graph.jobs["t"].workdir == f"{tmp_path}/elsewhere/t/default"


def _error(pipeline, target: str) -> tuple[int, str, str | None]:
    with pytest.raises(HmError) as info:
        api.plan(pipeline, [target])
    diag = info.value.diagnostic
    assert isinstance(info.value, TargetError) and info.value.exit_code == 2
    return diag.span.column if diag.span else 0, diag.message, diag.help


@pytest.mark.parametrize("target, expected", [
    ("P[A: x]", (1, "plan `P` cannot be indexed",  # HyperMake ignores the index
                 "index the tasks inside the plan instead of `P` itself")),
    ("o.vv", (1, "undefined target `o.vv`", "did you mean `o.v`?")),
    ("t[Q: x]", (3, "undefined axis `Q`", None)),
    ("t[b: 1]", (3, "undefined axis `b`", "did you mean `B`?")),
    ("t[A: w]", (3, "axis `A` has no key `w`", None)),
    ("t[A: x, A: y]", (9, "axis `A` is indexed more than once", None)),
], ids=["indexed-plan", "unknown-task", "unknown-axis", "axis-typo", "unknown-key", "twice"])
def test_target_errors(pipeline, target, expected):
    assert _error(pipeline, target) == expected


@pytest.mark.parametrize("plan_src, message", [
    ("plan R = { nope }", "undefined target `nope`"),
    ("plan R = { t[A: q] }", "axis `A` has no key `q`"),
    ("plan R = { P[A: x] }", "plan `P` cannot be indexed"),
    ("plan R = { S }\nplan S = { R }", "plan cycle: R -> S -> R"),
], ids=["unknown", "bad-key", "indexed-plan", "cycle"])
def test_plans_are_checked_when_loading(tmp_path, plan_src, message):
    write(tmp_path, {"main.hm": SRC + plan_src + "\n"})
    with pytest.raises(TargetError) as info:
        api.load(str(tmp_path / "main.hm"), cwd=str(tmp_path))
    assert info.value.diagnostic.message == message
    assert info.value.diagnostic.span is not None


def test_plans_accept_commas_and_whitespace(tmp_path):  # HyperMake's docs show commas; its parser rejects them
    a = load(tmp_path, SRC + "plan R = { t u[A: *] }\n")
    b = load(tmp_path, SRC + "plan R = { t, u[A: *] }\n")
    assert api.plan(a, ["R"]).targets == api.plan(b, ["R"]).targets == ["t", "u", "u?A=y", "u?A=z"]
