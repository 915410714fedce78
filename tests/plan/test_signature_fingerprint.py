"""Task fingerprints: the same in every process (the status cache keeps them between commands), different
after any change of what a task's digests are made from, none for a task whose digests need a file's content,
and written from every field of the planning records (a new field must be placed on one side or the other)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from semantics.helpers import load

from hypermetric import api
from hypermetric.plan.signature import Signer
from hypermetric.plan.signature_fingerprint import NONE
from hypermetric.plan.task_plan import TaskPlan
from hypermetric.semantics.model import (
    Binding,
    Branch,
    Const,
    DecoratorSpec,
    InputFile,
    Output,
    Pure,
    TaskOutput,
)

PIPELINE = """\
a = {A: 1 2 3}
b = {B: x y}
class tagged(tag):
  def run(inner):
    . $inner
task t(a=$, b=$) -> out:
  echo $a $b > $out
@tagged(tag=$b)
task u(i=$t.out, c="fixed") -> (o, p="p.txt"):
  cat $i > $o
task r(x=$u[A: *].o) -> out:
  cat $x/* > $out
task f(d="data.txt"@local) -> out:
  cat $d > $out
"""
TARGETS = ["r[B: *]", "f"]

# Every field of the planning records, as the fingerprint writes it or leaves it out (with the reason).
PLAN_WRITTEN = {"name", "path", "root", "max_length", "script", "defaults", "inputs", "outputs", "output_fs",
                "output_vars", "decorators", "axes"}  # (the axes are the keys of `defaults`)
PLAN_LEFT = {"ephemeral", "is_package", "runner", "services", "exec_fs", "resources",  # not in any digest
             "explored", "files", "local_files", "output_fs_items", "output_roots", "workdirs"}  # made from others
NODE_FIELDS = {Const: {"value"}, Branch: {"axis", "default", "branches"}, Pure: {"text"},
               Output: {"task", "output", "axes", "defaults", "fixed", "reduced", "service"},
               TaskOutput: {"task", "output", "pairs", "service"}, InputFile: {"path", "fs"},
               Binding: {"name", "node", "kind", "fs"}, DecoratorSpec: {"name", "script", "param", "variables", "cls"}}
NODE_LEFT = {"span", "shape"}  # where in the source, and what the others make


def _prints(tmp_path, text: str = PIPELINE, **kw) -> dict[str, int]:
    graph = api.plan(load(tmp_path, text, **kw), TARGETS)
    signer = Signer(graph)
    return {job_id.partition("?")[0]: signer.task_fingerprint(job_id) for job_id in graph.order()}


def _fields(cls: type) -> set[str]:
    return {name for klass in cls.__mro__ for name in getattr(klass, "__slots__", ())}


def test_every_field_of_the_planning_records_is_written_or_left_out_for_a_reason() -> None:
    assert _fields(TaskPlan) == PLAN_WRITTEN | PLAN_LEFT
    for cls, written in NODE_FIELDS.items():
        assert _fields(cls) - NODE_LEFT == written, cls.__name__


def test_a_task_reading_a_file_has_no_fingerprint_and_the_others_have_one(tmp_path) -> None:
    (tmp_path / "data.txt").write_text("data")
    prints = _prints(tmp_path)
    assert prints["f"] == NONE
    assert NONE not in (prints["t"], prints["u"], prints["r"])
    assert len({prints["t"], prints["u"], prints["r"]}) == 3


@pytest.mark.parametrize("change, changed", [
    (("echo $a $b > $out", "echo $b $a > $out"), {"t", "u", "r"}),  # upstream of all
    (("cat $i > $o", "cat $i >> $o"), {"u", "r"}),
    (('c="fixed"', 'c="other"'), {"u", "r"}),
    (('p="p.txt"', 'p="q.txt"'), {"u", "r"}),
    ((". $inner", "bash $inner"), {"u", "r"}),  # the decorator's script
    (("a = {A: 1 2 3}", "a = {A: 1 2 3 4}"), {"t", "u", "r"}),  # one more key: more entries for `r`
    (("cat $x/* > $out", "cat $x/* >$out"), {"r"}),
])
def test_a_change_changes_the_fingerprint_of_the_task_and_of_every_task_downstream(tmp_path, change,
                                                                                     changed) -> None:
    (tmp_path / "data.txt").write_text("data")
    before = _prints(tmp_path)
    after = _prints(tmp_path, PIPELINE.replace(*change))
    assert {task for task in ("t", "u", "r") if before[task] != after[task]} == changed


def test_a_define_changes_the_fingerprints_of_the_tasks_that_read_the_value(tmp_path) -> None:
    (tmp_path / "data.txt").write_text("data")
    before = _prints(tmp_path)
    after = _prints(tmp_path, defines={"b": "{B: x z}"})
    assert all(before[task] != after[task] for task in ("t", "u", "r"))


def test_fingerprints_are_the_same_in_every_process(tmp_path) -> None:
    """The status cache holds them from one command to the next: no hash that varies between processes."""
    (tmp_path / "data.txt").write_text("data")
    load(tmp_path, PIPELINE)
    code = ("import sys; from hypermetric import api; from hypermetric.plan.signature import Signer; "
            f"g = api.plan(api.load({str(tmp_path / 'main.hm')!r}), {TARGETS!r}); s = Signer(g); "
            "print(sorted((i, s.task_fingerprint(i)) for i in g.order()))")
    outputs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                              env={**os.environ, "PYTHONHASHSEED": seed}, cwd=str(tmp_path)).stdout
               for seed in ("1", "2", "random")}
    assert len(outputs) == 1 and "t?A=2" in outputs.pop()
