"""Digests computed without building jobs equal, byte for byte, those of the algorithm existing `job.json`
files were signed with (a frozen copy in `signature_reference.py`), on many random small pipelines."""

from __future__ import annotations

import random

import pytest
from semantics.helpers import load

from hypermetric import api
from hypermetric.plan.signature import Signer
from plan.signature_reference import Signer as Reference

ODD = ["plain", "with space", "per%cent %s", "br{ace}}", "ünï-cødé", "eq=&sign", "tab\\there", "a,b;c", "", "unit\\u001fsep"]
KEYS = ["k0", "1e-3", "x.y", "ü", "k_4"]
DECORATOR = """
class tagged(tag):
  def run(inner):
    echo "[$tag]"; . $inner
"""
FUNCTION = """
def f(x, y="dflt") -> o:
  echo $x $y > $o
"""


def _quote(text: str) -> str:
    return '"' + text.replace('"', '\\"') + '"'


class Random:
    """A random small pipeline: axes, values, tasks reading values and each other's outputs in every way a
    job can (selections, reductions, call arguments, decorator arguments, files, objects)."""

    def __init__(self, seed: int, root: str, files: str) -> None:
        self.rng = random.Random(seed)
        self.root, self.files = root, files
        self.axes = [f"X{i}" for i in range(self.rng.randint(1, 3))]
        self.lines: list[str] = []
        self.tasks: list[tuple[str, list[str]]] = []  # (name, outputs)
        self.shape: dict[str, set[str]] = {}  # value or task name -> its axes

    def value(self, name: str) -> None:
        rng = self.rng
        if rng.random() < 0.3:
            self.lines.append(f"{name} = {_quote(rng.choice(ODD))}")
            self.shape[name] = set()
            return
        axis = rng.choice(self.axes)
        self.shape[name] = {axis}
        keys = self.keys[axis]
        branches = " ".join(f"{k}={_quote(rng.choice(ODD))}" for k in keys)
        self.lines.append(f"{name} = {{{axis}: {branches}}}")

    def output_ref(self, fixed: bool = True) -> tuple[str, set[str]]:
        """`$task[...].output` and its axes."""
        rng = self.rng
        task, outputs = rng.choice(self.tasks)
        index, shape = "", set(self.shape[task])
        if fixed and shape and rng.random() < 0.3:
            axis = rng.choice(sorted(shape))
            index = f"[{axis}: {rng.choice(self.keys[axis])}]"
            shape.discard(axis)
        return f"${task}{index}.{rng.choice(outputs)}", shape

    def outputs(self) -> tuple[str, list[str]]:
        rng = self.rng
        names = ["out", "log"][: rng.randint(1, 2)]
        files = ['"same.txt"', '"sub/o.txt"', '"r.txt"', "$fname"]
        parts = [n if rng.random() < 0.4 else f"{n}={rng.choice(files)}" for n in names]
        return "(" + ", ".join(parts) + ")", names

    def source(self) -> str:
        rng = self.rng
        self.keys = {a: rng.sample(KEYS, rng.randint(2, 3)) for a in self.axes}
        for axis in self.axes:  # every axis declared, whether a task varies over it or not
            self.lines.append(f"decl_{axis} = {{{axis}: {' '.join(self.keys[axis])}}}")
        for i in range(3):
            self.value(f"v{i}")
        self.lines.append(f"fname = {{{self.axes[0]}: " + " ".join(f"{k}=f{j}.txt" for j, k in
                                                                     enumerate(self.keys[self.axes[0]])) + "}")
        self.lines.append(f'under = "{self.root}/t0/default/out"')  # a value naming a job's output by path
        self.lines.append(f'elsewhere = "{self.root}/nothing/here"')
        self.lines.append('outside = "/not/below/the/root"')
        self.lines += [DECORATOR, FUNCTION]
        self.lines.append("object o:\n  task n(p=$v0) -> out:\n    echo $p > $out")
        self.tasks.append(("o.n", ["out"]))
        self.shape["o.n"] = set(self.shape["v0"])
        for t in range(rng.randint(2, 5)):
            self.task(f"t{t}")
        return "\n".join(self.lines) + "\n"

    def task(self, name: str) -> None:
        rng = self.rng
        value = f"v{rng.randint(0, 2)}"
        inputs, shape = [f"a=${value}", f"b={_quote(rng.choice(ODD))}"], set(self.shape[value])
        if rng.random() < 0.3:  # (`under` names a file of t0: t0 itself reading it would be a cycle)
            inputs.append(f"w=${rng.choice(['under', 'elsewhere', 'outside'][name == 't0':])}")
        if name != "t0":
            for var in ("i", "j")[: rng.randint(1, 2)]:
                ref, axes = self.output_ref()
                inputs.append(f"{var}={ref}")
                shape |= axes
            if rng.random() < 0.3:
                task, outs = rng.choice(self.tasks)
                own = sorted(self.shape[task])  # mostly the upstream task's own axes; now and then another
                axis = rng.choice(own if own and rng.random() < 0.7 else self.axes)
                inputs.append(f"r=${task}[{axis}: *].{rng.choice(outs)}")
                shape |= self.shape[task] - {axis}
        if rng.random() < 0.2:
            inputs.append(f'd={_quote(rng.choice(["data.txt", self.files + "/in.txt"]))}@local')
        decorators = ""
        if rng.random() < 0.4:
            tag, axes = rng.choice([("$v1", self.shape["v1"]), (_quote(rng.choice(ODD)), set()),
                                    self.output_ref()])
            decorators = f"@tagged(tag={tag})\n"
            shape |= axes
        header, outs = self.outputs()
        if self.tasks and rng.random() < 0.3:
            body = f" = f(x={self.output_ref(fixed=False)[0]})"  # a call argument adds no axis
        else:
            body = ":\n  echo $a > $" + outs[0]
        self.lines.append(f"{decorators}task {name}({', '.join(inputs)}) -> {header}{body}")
        self.tasks.append((name, outs))
        self.shape[name] = shape

    def targets(self) -> list[str]:
        index = ", ".join(f"{a}: *" for a in self.axes)
        return [f"{name}[{index}]" for name, _ in self.tasks]


def _pipeline(tmp_path, seed: int):
    files = tmp_path / "files"
    files.mkdir()
    (files / "in.txt").write_text("content")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "data.txt").write_text("data")
    gen = Random(seed, str(tmp_path / "out"), str(files))
    pipeline = load(tmp_path, gen.source())
    return pipeline, gen.targets()


@pytest.mark.parametrize("seed", range(60))
def test_digests_and_built_from_equal_the_reference(tmp_path, seed):
    pipeline, targets = _pipeline(tmp_path, seed)
    graph = api.plan(pipeline, targets)
    order = graph.order()
    fast = Signer(graph)
    digests = {job_id: fast.digest(job_id) for job_id in reversed(order)}  # upstream ones computed first
    reference = Reference(api.plan(pipeline, targets))
    for job_id in order:
        expected = reference.signature(job_id)
        assert digests[job_id] == expected.digest, job_id
        full = Signer(graph).signature(job_id)
        assert (full.digest, full.built_from) == (expected.digest, expected.built_from), job_id


def test_the_random_pipelines_exercise_every_kind_of_input(tmp_path):
    """The generator is worth its cost only if its graphs hold each kind of input the signature names, and
    if many of their jobs get their digest without being built (the rest are left to the full computation)."""
    seen: set[str] = set()
    jobs = unbuilt = 0
    for seed in range(60):
        folder = tmp_path / str(seed)
        folder.mkdir()
        pipeline, targets = _pipeline(folder, seed)
        graph = api.plan(pipeline, targets)
        fast = Signer(graph)
        for job_id in graph.order():
            fast.digest(job_id)
        jobs += len(graph)
        unbuilt += len(graph) - graph.jobs.built_count()
        signer = Reference(graph)
        for job_id in graph.order():
            built = signer.signature(job_id).built_from
            seen.update(kind for kind in ("values", "inputs", "entries", "files") if built[kind])
            seen.update("decorated" for key in built["values"] if key.startswith("tagged."))
            seen.update("by path" for key in built["inputs"] if key == "w")
    assert seen == {"values", "inputs", "entries", "files", "decorated", "by path"}
    assert unbuilt > jobs // 6, (unbuilt, jobs)  # 157 of 789 when written


CHAIN = """
a = {A: 1 2 3 4}
b = {B: x y "z w"}
class tagged(tag):
  def run(inner):
    . $inner
task t(a=$, b=$, c="fixed") -> out:
  echo $a $b > $out
@tagged(tag=$b)
task u(i=$t.out, a=$) -> (o, p="p.txt"):
  cat $i > $o
task v(j=$u[A: 2].p, k=$u.o) -> out:
  cat $j $k > $out
"""


def test_digests_of_covered_jobs_build_no_job(tmp_path):
    """A done job's digest comes from its (task, case): asking for every digest builds no `Job` (the old
    computation built each one)."""
    graph = api.plan(load(tmp_path, CHAIN), ["v[A: *, B: *]"])
    order = graph.order()
    assert len(order) == 36
    signer = Signer(graph)
    digests = [signer.digest(job_id) for job_id in order]
    assert graph.jobs.built_count() == 0
    reference = Reference(api.plan(load(tmp_path, CHAIN), ["v[A: *, B: *]"]))
    assert digests == [reference.digest(job_id) for job_id in order]


REDUCTION = """
a = {A: 1 2 3}
b = {B: x y}
c = {C: p q}
task t(a=$, b=$, c=$) -> out:
  echo $a $b > $out
task r(d=$t[A: *, B: *].out) -> out:
  cat $d/* > $out
task s(d=$t[A: 2, B: *].out, e=$r.out) -> out:
  cat $d/* $e > $out
"""


def test_a_reduction_finds_its_entries_jobs_without_a_map_of_every_directory(tmp_path):
    """A done reduction's digest needs no job built; its full signature (to run it) names each entry's job
    from its directory: no map of every job's directory is made (at a million jobs it would hold a million
    paths). Both equal the reference's."""
    graph = api.plan(load(tmp_path, REDUCTION), ["s[C: *]"])
    signer = Signer(graph)
    planned = {job_id: signer.digest(job_id) for job_id in graph.order()}
    assert graph.jobs.built_count() == 0  # a done reduction's digest comes from its case too
    reference = Reference(api.plan(load(tmp_path, REDUCTION), ["s[C: *]"]))
    for job_id in ("r?C=q", "s", "s?C=q"):
        signature, expected = signer.signature(job_id), reference.signature(job_id)
        assert signature.digest == planned[job_id]
        assert (signature.digest, signature.built_from) == (expected.digest, expected.built_from)
    assert signer._by_workdir is None
    assert len(signer.signature("r").built_from["entries"]["d"]) == 6
    assert planned == {job_id: reference.digest(job_id) for job_id in graph.order()}
