"""The planner on pipelines built by hand from the semantic model: no `.hm` file, no parser, no analyzer."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from hypermetric.errors import TargetError
from hypermetric.model.axis import Axis
from hypermetric.plan.planner import plan_jobs
from hypermetric.plan.targets import resolve_targets
from hypermetric.semantics.model import (
    INPUT,
    OUTPUT,
    Binding,
    Branch,
    Const,
    InputFile,
    Output,
    Pipeline,
    PlanInfo,
    Pure,
    Service,
    Target,
    TargetIndex,
    TaskInfo,
    TaskTensor,
)

PACKAGE = Path(__file__).resolve().parents[2] / "hypermetric"
A = Axis("A", ("x", "y", "z"))


def text(value: str) -> Const:
    return Const(Pure(value))


def task(name: str, inputs: dict[str, object] | None = None, outputs: tuple[str, ...] = ("out",), axes=(),
         **kw) -> TaskTensor:
    """A task tensor whose inputs are the given nodes and whose outputs are files named after themselves."""
    inputs = inputs or {}
    outs = tuple(Binding(o, text(o), OUTPUT) for o in outputs)
    bindings = tuple(Binding(n, node, INPUT) for n, node in inputs.items()) + outs  # type: ignore[arg-type]
    defaults = tuple(A.default for _ in axes)
    upstream = tuple(sorted({n.task for n in inputs.values() if isinstance(n, Output)}))
    return TaskTensor(name, f"echo {name}\n", bindings, outs, axes=axes, defaults=defaults, upstream=upstream, **kw)


def pipeline(root: Path, *tensors: TaskTensor, **kw) -> Pipeline:
    return Pipeline(path=str(root / "main.hm"), cwd=str(root), root=str(root / "out"), axes=(A,),
                    tasks={t.name: TaskInfo.of(t) for t in tensors}, plans=kw.pop("plans", {}),
                    tensors={t.name: t for t in tensors}, **kw)


def plan(p: Pipeline, *targets: Target, extra: tuple[Target, ...] = ()):
    return plan_jobs(p, resolve_targets(p, targets), extra=resolve_targets(p, extra))


def star(path: str) -> Target:
    return Target(path, (TargetIndex("A", None),))


def test_a_task_over_an_axis_plans_one_job_per_selected_key(tmp_path):
    branch = Branch("A", "x", {"x": text("1"), "y": text("2"), "z": text("3")})
    p = pipeline(tmp_path, task("t", {"n": branch, "f": Const(InputFile("data.txt"))}, axes=("A",)))
    graph = plan(p, Target("t", (TargetIndex("A", ("x", "z")),)))
    assert graph.targets == ["t", "t?A=z"]
    job = graph.jobs["t?A=z"]
    assert job.case == (("A", "z"),) and job.full_case == (("A", "z"),)
    assert job.workdir == f"{tmp_path}/out/t/A=z"
    assert dict(job.variables) == {"n": "3", "f": f"{tmp_path}/out/data.txt", "out": f"{tmp_path}/out/t/A=z/out"}
    assert [(link.name, link.target) for link in job.inputs] == [("f", f"{tmp_path}/out/data.txt")]


def test_an_output_reference_adds_the_upstream_job_at_the_matching_case(tmp_path):
    t = task("t", {"n": Branch("A", "x", {k: text(k) for k in A.keys})}, axes=("A",))
    ref = Output("t", "out", ("A",), ("x",))
    u = task("o.u", {"i": ref}, axes=("A",))
    graph = plan(pipeline(tmp_path, t, u), Target("o.u", (TargetIndex("A", ("y",)),)))
    assert set(graph.jobs) == {"t?A=y", "o/u?A=y"}
    job = graph.jobs["o/u?A=y"]
    assert job.deps == ("t?A=y",) and job.relpath == "o/u/A=y"
    assert dict(job.variables)["i"] == f"{tmp_path}/out/t/A=y/out"
    assert graph.order() == ["t?A=y", "o/u?A=y"]


def test_a_reduction_gathers_one_entry_per_key(tmp_path):
    t = task("t", {"n": Branch("A", "x", {k: text(k) for k in A.keys})}, axes=("A",))
    r = task("r", {"all": Output("t", "out", ("A",), ("x",), reduced=(("A", A.keys),))})
    graph = plan(pipeline(tmp_path, t, r), Target("r"))
    assert graph.jobs["r"].deps == ("t", "t?A=y", "t?A=z")
    (link,) = graph.jobs["r"].inputs
    assert link.is_reduction and [e.name for e in link.entries] == ["default", "A=y", "A=z"]
    assert [e.target for e in link.entries] == [f"{tmp_path}/out/t/{d}/out" for d in ("default", "A=y", "A=z")]
    assert dict(graph.jobs["r"].variables)["all"] == f"{tmp_path}/out/r/default/all"


def test_a_service_wraps_the_jobs_that_use_it(tmp_path):
    start = task("s.start", outputs=("sock",), ephemeral=True)
    stop = task("s.stop", outputs=(), ephemeral=True)
    user = task("u", {"sock": Output("s.start", "sock", (), (), service="s")}, services=("s",))
    p = pipeline(tmp_path, start, stop, user, services={"s": Service("s", "s.start", "s.stop")})
    graph = plan(p, Target("u"), extra=(Target("s.stop"),))
    assert graph.jobs["u"].deps == ("s/start",)
    assert graph.jobs["s/stop"].deps == ("u",) and graph.jobs["s/stop"].after == ("u",)
    assert graph.jobs["s/start"].ephemeral and graph.targets == ["u"]


def test_plans_and_target_errors_need_no_syntax(tmp_path):
    t = task("t", {"n": Branch("A", "x", {k: text(k) for k in A.keys})}, axes=("A",))
    plans = {"all": PlanInfo("all", (star("t"),))}
    p = pipeline(tmp_path, t, plans=plans)
    assert plan(p, Target("all")).targets == ["t", "t?A=y", "t?A=z"]
    with pytest.raises(TargetError, match="axis `A` has no key `w`"):
        plan(p, Target("t", (TargetIndex("A", ("w",)),)))


def _semantics_imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("hypermetric.semantics"):
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("hypermetric.semantics")}
    return found


def test_the_planner_sees_only_the_semantic_model():
    for path in sorted((PACKAGE / "plan").rglob("*.py")):
        bad = {m for m in _semantics_imports(path) if m.split(".")[:3] != ["hypermetric", "semantics", "model"]}
        assert not bad, f"{path.name} reaches into semantic internals: {sorted(bad)}"


def test_the_model_stands_alone():
    """The model imports nothing of the analyzer's (scopes, declarations, resolvers) and no syntax tree."""
    for path in sorted((PACKAGE / "semantics" / "model").rglob("*.py")):
        imports = _semantics_imports(path) | {
            n.module for n in ast.walk(ast.parse(path.read_text()))
            if isinstance(n, ast.ImportFrom) and (n.module or "").startswith("hypermetric.syntax")}
        bad = {m for m in imports if not m.startswith("hypermetric.semantics.model")}
        assert not bad, f"{path.name} imports {sorted(bad)}"
