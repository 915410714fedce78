"""A reduction's entries: made only when read, from strings made once per key, the same as the plain path.

Counting tests (tracemalloc's bytes, not time, so a busy machine cannot fail them)."""

from __future__ import annotations

import os
import pickle
import tracemalloc

import pytest
from semantics.helpers import load

from hypermetric import api
from hypermetric.model.case import CaseNames
from hypermetric.plan.job import ReductionEntry
from hypermetric.plan.reduction import Reduction, ReductionEntries, upstream_cases
from hypermetric.plan.task_plan import TaskPlan
from hypermetric.semantics.model import Branch, Output

AXES = "a = {A: a0 a1 a2}\nb = {B: 0 1 2}\nc = {C: x y}\nd = {D: 0 1}\n"
T = "task t(a=$, b=$, c=$, d=$) -> out:\n  true\n"
FS = """
object plain:
  root = "/plain"
  separator = "/"
  def exists(file):
    test -e "$root/$file"
"""
SHAPES = {
    "sorted": (AXES + T + "task r(x=$t[B: *, D: *].out) -> out:\n  true\n", ["r[A: *, C: *]"]),
    "unsorted": (AXES + T + "task r(x=$t[D: *, B: *].out) -> out:\n  true\n", ["r[A: *, C: *]"]),
    "fixed": (AXES + T + "task r(x=$t[A: a2, C: *, D: 1].out, y=$t[A: *, B: *, C: *, D: *].out) -> out:\n"
              "  true\n", ["r[A: *, B: *]"]),
    "keys": ("local.max_file_name_length = 12\na = {A: 'p q' 'x&y' 'é' longlonglongkey}\n"
             "b = {B: 0 1 'a b' zzzzzzzzzzzzz}\ntask t(a=$, b=$) -> out:\n  true\n"
             "task r(x=$t[A: *, B: *].out) -> out:\n  true\ntask s(x=$t[B: *].out) -> out:\n  true\n",
             ["r", "s[A: *]"]),
    "files": ("a = {A: a0 a1}\nb = {B: 0 1 2}\n"
              'task t(a=$, b=$) -> (o={B: 0="zero.txt" 1="one.txt" 2="two.txt"}):\n  true\n'
              "task r(x=$t[B: *].o) -> out:\n  true\n", ["r[A: *]"]),
    "branch": ("a = {A: a0 a1 a2}\nb = {B: 0 1 2}\ntask t(a=$, b=$) -> out:\n  true\n"
               "task u(b=$) -> out:\n  true\n"
               'task r(x={A: a0=$t[B: *].out a1=$u[B: *].out a2="plain"}) -> out:\n  true\n', ["r[A: *]"]),
    "fs": (FS + "a = {A: a0 a1}\nb = {B: 0 1 2}\ntask t(a=$, b=$) -> out@plain:\n  true\n"
           "task r(x=$t[B: *].out, y@plain=$t[A: *, B: *].out) -> out:\n  true\n", ["r[A: *]"]),
}


def _plain(pipeline, job, name: str) -> tuple[ReductionEntry, ...]:
    """The entries of `job`'s reduction input `name` the plain way, from the reference's `Multiple` value."""
    tensor = pipeline.tensors[job.name]
    (node,) = [b.node for b in tensor.bindings if b.name == name]
    case = dict(job.full_case)
    while isinstance(node, Branch):
        node = node.branches[case[node.axis]]
    assert isinstance(node, Output)
    upstream = TaskPlan(pipeline.tensors[node.task], {**pipeline.fs_roots, "local": os.path.normpath(pipeline.root)},
                        pipeline.max_file_name_length)
    reduction = Reduction(CaseNames(), pipeline.defaults, pipeline.max_file_name_length)
    return reduction.entries_of(node, case, upstream)


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_entries_are_those_of_the_plain_path(tmp_path, shape):
    text, targets = SHAPES[shape]
    pipeline = load(tmp_path, text)
    graph = api.plan(pipeline, targets)
    seen = 0
    for job in graph:
        for link in job.inputs:
            if link.is_reduction:
                assert isinstance(link.entries, ReductionEntries)
                assert tuple(link.entries) == _plain(pipeline, job, link.name)
                seen += 1
    assert seen


def test_entries_name_their_cases_and_targets(tmp_path):
    graph = api.plan(load(tmp_path, AXES + T + "task r(x=$t[B: *, D: *].out) -> out:\n  true\n"), ["r[A: a1, C: y]"])
    (link,) = graph.jobs["r?A=a1&C=y"].inputs
    out = f"{tmp_path}/out/t"
    assert [(e.name, e.target, e.case) for e in link.entries[:3]] == [
        ("default", f"{out}/A=a1&C=y/out", (("B", "0"), ("D", "0"))),
        ("D=1", f"{out}/A=a1&C=y&D=1/out", (("B", "0"), ("D", "1"))),
        ("B=1", f"{out}/A=a1&B=1&C=y/out", (("B", "1"), ("D", "0"))),
    ]
    assert len(link.entries) == 6 and all(e.fs == "local" and e.source is None for e in link.entries)


def test_the_deps_of_a_built_reduction_are_the_jobs_its_entries_read(tmp_path):
    text, targets = SHAPES["fixed"]
    graph = api.plan(load(tmp_path, text), targets)
    by_workdir = {graph.workdir(i): i for i in graph.jobs}
    for job_id in graph.targets:
        job = graph.jobs[job_id]
        read = {by_workdir[e.target.rsplit("/", 1)[0]] for link in job.inputs for e in link.entries}
        assert job.deps == tuple(sorted(read)) == graph.deps(job_id)


SWEEP = """\
a = {A: a0 a1}
b = {B: 0 1 2 3 4 5 6 7 8 9}
c = {C: 0 1 2 3 4 5 6 7 8 9}
d = {D: 0 1 2 3 4 5 6 7 8 9}
e = {E: 0 1 2 3 4 5 6 7 8 9}
task t(a=$, b=$, c=$, d=$, e=$) -> out:
  true
task r(x=$t[B: *, C: *, D: *, E: *].out) -> out:
  true
"""
ENTRIES = 10_000


def test_building_a_reduction_job_makes_no_entries(tmp_path):
    # Measured on the 2-vCPU VM, 2026-12-04: building `r` allocated 5.8 MB (1,049 bytes per entry at the
    # peak) when each entry was made with the job; about 2 KB in all since.
    graph = api.plan(load(tmp_path, SWEEP), ["r[A: a1]"])
    tracemalloc.start()
    try:
        job = graph.jobs["r?A=a1"]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    (link,) = job.inputs
    assert isinstance(link.entries, ReductionEntries) and not link.entries.made
    assert peak < 20_000, f"{peak} bytes"
    assert len(job.deps) == ENTRIES and len(link.entries) == ENTRIES and link.entries.made


def test_made_entries_cost_a_few_hundred_bytes_each(tmp_path):
    # 2026-12-04: 583 bytes kept per entry (1,049 at the peak) when made the old way, with a task output value
    # and a job id per entry; 323 (472) since.
    graph = api.plan(load(tmp_path, SWEEP), ["r[A: a1]"])
    tracemalloc.start()
    try:
        (link,) = graph.jobs["r?A=a1"].inputs
        assert len(link.entries) == ENTRIES
        kept, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert kept / ENTRIES < 420 and peak / ENTRIES < 700, f"{kept / ENTRIES:.0f} kept, {peak / ENTRIES:.0f} peak"


def test_entries_compare_hash_and_pickle_as_a_tuple(tmp_path):
    graph = api.plan(load(tmp_path, AXES + T + "task r(x=$t[B: *].out) -> out:\n  true\n"), ["r"])
    (link,) = graph.jobs["r"].inputs
    made = tuple(link.entries)
    assert link.entries == made and made == link.entries and hash(link.entries) == hash(made)
    copy = pickle.loads(pickle.dumps(link))
    assert type(copy.entries) is tuple and copy == link and copy.entries == made
    assert link.entries[1:] == made[1:] and list(reversed(link.entries)) == list(reversed(made))


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_upstream_cases_are_named_as_the_references_own(tmp_path, shape):
    text, targets = SHAPES[shape]
    pipeline = load(tmp_path, text)
    graph = api.plan(pipeline, targets)
    clauses = CaseNames()
    seen = 0
    for job in graph:
        case = dict(job.full_case)
        for binding in pipeline.tensors[job.name].bindings:
            node = binding.node
            while isinstance(node, Branch):
                node = node.branches[case[node.axis]]
            if isinstance(node, Output):
                expected = [(pairs, clauses.string(pairs)) for pairs in node.upstream_cases(case)]
                assert list(upstream_cases(node, case, clauses)) == expected
                seen += 1
    assert seen


def test_planning_names_a_reductions_upstream_jobs_without_naming_each_from_its_case(tmp_path, monkeypatch):
    # Each upstream job's id used to be joined from its case's clauses (`CaseNames.job_id`, 10,000 calls here);
    # it is now grown with the other ids a level of keys at a time.
    pipeline = load(tmp_path, SWEEP)
    calls = []
    real = CaseNames.job_id
    monkeypatch.setattr(CaseNames, "job_id", lambda self, path, pairs: calls.append(path) or real(self, path, pairs))
    graph = api.plan(pipeline, ["r[A: *]"])
    assert len(graph) == 2 * ENTRIES + 2 and len(calls) <= 2
