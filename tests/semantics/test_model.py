"""What semantic analysis hands on: a frozen model that holds no scope, no declaration and no syntax tree."""

from __future__ import annotations

import dataclasses

import pytest

from hypermetric.record import Record, fields_of
from hypermetric.semantics import entities, namespace
from hypermetric.semantics.model import Output, TaskOutput
from hypermetric.source import SourceFile, Span
from semantics.helpers import load

PIPELINE = """
a = {A: x y}
def f(x) -> o:
  echo $x > $o
class deco(val):
  def run(inner):
    bash -e "$inner"
object runner:
  def submit(script_file):
    echo 1
  def poll(job_id):
    echo 0
object store:
  root = "/remote"
  ephemeral task start -> sock:
    touch $sock
  ephemeral task stop(sock=$start.sock):
    true
def copy_from_local_to_store(src, dst):
  cp $src $dst
package p -> bin:
  touch $bin
@deco(val=$a)
task t(x=$a, tool=$p) = f(x=$x)
@@runner
task u(i=$t.o, all=$t[A: *].o) -> o@store:
  touch $o
plan everything = { u t[A: *] }
"""


def _reachable(root: object):
    """Every object reachable from `root` through record and dataclass fields, mappings and sequences (spans
    excluded: they point into the source text for error messages)."""
    seen: set[int] = set()
    stack = [root]
    while stack:
        current = stack.pop()
        if id(current) in seen or isinstance(current, (str, int, float, bool, type(None), Span, SourceFile)):
            continue
        seen.add(id(current))
        yield current
        if isinstance(current, dict):
            stack.extend(current.keys())
            stack.extend(current.values())
        elif isinstance(current, (tuple, list, set, frozenset)):
            stack.extend(current)
        elif isinstance(current, Record):
            stack.extend(getattr(current, name) for name in fields_of(current))
        elif dataclasses.is_dataclass(current):
            stack.extend(getattr(current, f.name) for f in dataclasses.fields(current))


def test_the_pipeline_holds_no_scope_declaration_or_syntax_tree(tmp_path):
    pipeline = load(tmp_path, PIPELINE)
    kinds = {type(obj) for obj in _reachable(pipeline)}
    leaked = sorted(k.__qualname__ for k in kinds if k.__module__ in (
        "hypermetric.syntax.ast", "hypermetric.syntax.refs", entities.__name__, namespace.__name__))
    assert not leaked, f"the model holds analyzer state: {leaked}"
    names = {k.__name__ for k in kinds}
    assert {"TaskTensor", "Runner", "FileSystem", "Service", "Target", "Output", "Branch"} <= names


def test_task_references_are_names_of_tensors_in_the_model(tmp_path):
    pipeline = load(tmp_path, PIPELINE)
    u = pipeline.tensors["u"]
    refs = [b.node for b in u.bindings if isinstance(b.node, Output)]
    assert {r.task for r in refs} == {"t"} and all(r.task in pipeline.tensors for r in refs)
    assert u.upstream == ("t",) and pipeline.tensors["t"].upstream == ("p",)
    assert isinstance(refs[0].at({"A": "y"}), TaskOutput)
    assert pipeline.services["store"].start == "store.start" and pipeline.plans["everything"].targets[1].path == "t"


def test_the_model_is_frozen(tmp_path):
    pipeline = load(tmp_path, PIPELINE)
    with pytest.raises(dataclasses.FrozenInstanceError):
        pipeline.root = "/elsewhere"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        pipeline.tensors["u"].script = ""  # type: ignore[misc]
