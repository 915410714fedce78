"""The planner: jobs, their fields and dependencies, history, and the 100,000-case scale budget."""

from __future__ import annotations

import time

import pytest
from semantics.helpers import load, plan, targets, var, write

from hypermetric import api
from hypermetric.store.runs import write_run_record

CHAIN = "task c0 -> out:\n  touch $out\n" + "".join(
    f"task c{i}(prev=$c{i - 1}.out) -> out:\n  touch $out\n" for i in range(1, 300))


def test_a_long_chain_plans_without_recursion(tmp_path):
    graph = plan(tmp_path, CHAIN, "c299")
    assert len(graph) == 300 and graph.order()[:2] == ["c0", "c1"] and graph.jobs["c299"].deps == ("c298",)


def test_job_fields(tmp_path):
    src = ('a = {A: x y}\ntask t(a=$, p="/abs/in"@local) -> (out="r.txt", log):\n  echo $a > $out\n'
           "task u(i=$t.out) -> o:\n  cp $i $o\n")
    graph = plan(tmp_path, src, "u[A: y]")
    t = graph.jobs["t?A=y"]
    assert (t.name, t.case, t.full_case, t.relpath) == ("t", (("A", "y"),), (("A", "y"),), "t/A=y")
    assert t.outputs == (("out", "r.txt"), ("log", "log"))
    assert dict(t.variables) == {"a": "y", "p": "/abs/in", "out": f"{tmp_path}/out/t/A=y/r.txt",
                                 "log": f"{tmp_path}/out/t/A=y/log"}
    assert t.display_id == "t[A: y]" and t.label == "t[A: y]" and t.case_text == "A: y"
    u = graph.jobs["u?A=y"]
    assert u.deps == ("t?A=y",)
    assert [(i.name, i.target) for i in u.inputs] == [("i", f"{tmp_path}/out/t/A=y/r.txt")]
    assert graph.targets == ["u?A=y"] and graph.root == f"{tmp_path}/out"


def test_only_needed_cases_are_planned(tmp_path):
    src = ("a = {A: x y z}\nb = {B: 1 2 3}\ntask t(a=$, b=$) -> o:\n  touch $o\n"
           "task u(i=$t[B: *].o) -> o:\n  touch $o\n")
    graph = plan(tmp_path, src, "u[A: z]")
    assert sorted(graph.jobs) == ["t?A=z", "t?A=z&B=2", "t?A=z&B=3", "u?A=z"]


def test_long_reduction_entry_names_are_hashed(tmp_path):  # hashed as job directories are, to fit a file name
    long = "k" * 300
    src = f"v = {{V: a {long}}}\ntask t(v=$) -> o:\n  touch $o\ntask r(d=$t[V: *].o) -> o:\n  touch $o\n"
    (job,) = targets(plan(tmp_path, src, "r"))
    names = [e.name for e in job.inputs[0].entries]
    assert names[0] == "default" and len(names[1]) == 32


def test_history_adds_recorded_downstream_jobs(tmp_path):
    src = "a = {A: x y}\ntask t(a=$) -> o:\n  touch $o\ntask u(i=$t.o) -> o:\n  touch $o\n"
    pipeline = load(tmp_path, src)
    write_run_record(pipeline.root, ["t?A=y", "u?A=y", "gone?A=y", "u?A=nope", "not an id?", "t"])
    graph = api.plan_with_history(pipeline, ["t[A: y]"])
    assert graph.targets == ["t?A=y"]
    assert set(graph.jobs) == {"t", "t?A=y", "u?A=y"}
    assert graph.downstream(graph.targets) == {"t?A=y", "u?A=y"}


def test_plans_are_deterministic(tmp_path):
    src = "a = {A: x y z}\ntask t(a=$) -> o:\n  touch $o\ntask r(d=$t[A: *].o) -> o:\n  touch $o\n"
    first = plan(tmp_path, src, "r")
    second = plan(tmp_path, src, "r")
    assert first.jobs == second.jobs and first.targets == second.targets
    assert first.order() == ["t", "t?A=y", "t?A=z", "r"]


def _tensor(root, dims: int, vals: int) -> str:
    names = "abcdefgh"[:dims]
    lines = [f"{n} = {{{n.upper()}: {' '.join(map(str, range(vals)))}}}" for n in names]
    lines.append(f"task t({', '.join(f'{n}=$' for n in names)}) -> out:\n  echo > $out")
    reduced = ", ".join(f"{n.upper()}: *" for n in names[1:])
    lines.append(f"task r(x=$t[{reduced}].out) -> out:\n  cat $x/* > $out")
    write(root, {"main.hm": "\n".join(lines) + "\n"})
    return str(root / "main.hm")


def test_tensor_with_reducers(tmp_path):
    pipeline = api.load(_tensor(tmp_path, 3, 4), cwd=str(tmp_path))
    graph = api.plan(pipeline, ["r[A: *]"])
    assert len(graph) == 4**3 + 4
    r = graph.jobs["r?A=2"]
    assert len(r.deps) == 16 and len(r.inputs[0].entries) == 16
    assert r.inputs[0].entries[1].name == "C=1" and r.inputs[0].entries[4].name == "B=1"
    assert r.inputs[0].entries[5].target == f"{tmp_path}/out/t/A=2&B=1&C=1/out"


@pytest.mark.slow
def test_planning_100000_cases_within_budget(tmp_path):
    pipeline = api.load(_tensor(tmp_path, 5, 10), cwd=str(tmp_path))
    start = time.process_time()  # CPU time, not wall time, so that a busy machine does not fail the test
    graph = api.plan(pipeline, ["r[A: *]"])
    elapsed = time.process_time() - start
    assert len(graph) == 100_010
    assert var(graph.jobs["t?A=3&B=1&C=4&D=1&E=5"], "c") == "4"
    assert elapsed < 20, f"planning 100,010 jobs took {elapsed:.1f} s of CPU"
