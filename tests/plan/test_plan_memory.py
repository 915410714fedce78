"""Memory of a planned job until it is needed: a dry run of a large tensor builds no `Job`, and each planned job
costs a bounded number of bytes (tracemalloc's peak, not wall-clock time, so a busy machine cannot fail it)."""

from __future__ import annotations

import pickle
import tracemalloc

from semantics.helpers import load

from hypermetric import api
from hypermetric.cli import render
from hypermetric.store.staleness import Staleness

# 20 x 10 x 10 x 10 = 20,000 cases of `t`, and 20 reductions of 1,000 of them each.
SWEEP = """\
a = {A: a00 a01 a02 a03 a04 a05 a06 a07 a08 a09 a10 a11 a12 a13 a14 a15 a16 a17 a18 a19}
b = {B: 0 1 2 3 4 5 6 7 8 9}
c = {C: 0 1 2 3 4 5 6 7 8 9}
d = {D: 0 1 2 3 4 5 6 7 8 9}

task t(a=$, b=$, c=$, d=$) -> out:
  echo $a $b $c $d > $out

task r(x=$t[B: *, C: *, D: *].out) -> out:
  cat $x/* > $out
"""
JOBS = 20_020

# Measured on the 2-vCPU VM, 2026-12-03: about 2,650 bytes per job before jobs were built lazily (every job a
# full `Job` with its variables and paths, plus the planner's per-job refs and dicts), 285 after.
MAX_BYTES_PER_JOB = 600


def test_planning_and_listing_statuses_cost_a_few_hundred_bytes_per_job(tmp_path):
    pipeline = load(tmp_path, SWEEP)
    tracemalloc.start()
    try:
        graph = api.plan(pipeline, ["r[A: *]"])
        graph.order()
        states = Staleness(graph).states()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(graph) == len(states) == JOBS
    assert peak / JOBS < MAX_BYTES_PER_JOB, f"{peak / JOBS:.0f} bytes per job"


def test_a_dry_run_builds_no_job(tmp_path):
    graph = api.plan(load(tmp_path, SWEEP), ["r[A: *]"])
    lines = list(render.dry_run_lines(graph))
    assert len(lines) == JOBS + 3 and lines[-1] == (f"{JOBS} jobs: {JOBS} PENDING", None)
    assert graph.jobs.built_count() == 0  # type: ignore[attr-defined]  # the planner's lazy mapping


def test_a_job_is_built_when_read_and_then_kept(tmp_path):
    graph = api.plan(load(tmp_path, SWEEP), ["r[A: a03]"])
    r = graph.jobs["r?A=a03"]
    assert graph.jobs["r?A=a03"] is r and graph.jobs.built_count() == 1  # type: ignore[attr-defined]
    assert len(r.deps) == 1000 and r.deps == tuple(sorted(r.deps)) and r.deps == graph.deps(r.id)
    (link,) = r.inputs
    assert len(link.entries) == 1000 and link.entries[0].name == "default"
    t = graph.jobs["t?A=a03&B=9&C=9&D=9"]
    assert t.case == (("A", "a03"), ("B", "9"), ("C", "9"), ("D", "9")) and t.deps == ()
    assert graph.label(t.id) == t.label and graph.workdir(t.id) == t.workdir


def test_a_planned_graph_pickles_as_built_jobs(tmp_path):
    graph = api.plan(load(tmp_path, SWEEP), ["r[A: a03]"])
    graph.order()
    copy = pickle.loads(pickle.dumps(graph))
    assert type(copy.jobs) is dict and copy.jobs == dict(graph.jobs.items())
    assert copy.order() == graph.order() and copy.dependents() == graph.dependents()


MIXED = """\
a = {A: x y z}
b = {B: 1 2}
f = {B: 1="in1.txt"@local 2="in2.txt"@local}
task t(a=$, b=$) -> out:
  echo $a $b > $out
task u(a=$, i=$f) -> (o={A: x="x.txt" y="y.txt" z="z.txt"}):
  cat $i > $o
task v(p={A: x=$t[B: 2].out y=$u.o z="plain"}, q=$t[B: *].out, r=$u[A: *].o) -> out:
  ls $q $r > $out
"""


def test_the_deps_found_while_planning_are_those_of_the_built_jobs(tmp_path):
    graph = api.plan(load(tmp_path, MIXED, {"in1.txt": "1", "in2.txt": "2"}), ["v[A: *, B: *]"])
    found = {i: graph.deps(i) for i in graph.jobs}
    assert graph.jobs.built_count() == 0  # type: ignore[attr-defined]
    assert found == {i: job.deps for i, job in graph.jobs.items()}
    assert found["v?A=y&B=2"] == ("t?A=y", "t?A=y&B=2", "u?A=y&B=2", "u?A=z&B=2", "u?B=2")
