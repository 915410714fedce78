"""Tasks, functions, packages, decorators: how each is declared and checked, and which variables a script sees."""

from __future__ import annotations

import pytest

from hypermetric.errors import ResolutionError
from semantics.helpers import error, failure, link, load, plan, targets, var


def test_package_is_referenced_by_name(tmp_path):
    src = "package p -> out:\n  touch $out\ntask t(p=$p, q=$p.out) -> o:\n  touch $o\n"
    pipeline = load(tmp_path, src)
    assert pipeline.tasks["p"].is_package and pipeline.tasks["t"].upstream == ("p",)
    graph = plan(tmp_path, src, "t")
    job = targets(graph)[0]
    assert var(job, "p") == var(job, "q") == f"{tmp_path}/out/p/default/out" and job.deps == ("p",)
    assert graph.jobs["p"].is_package and graph.jobs["p"].relpath == "p/default"


@pytest.mark.parametrize("src, message", [
    ("package p:\n  true\n", "package `p` must have exactly one output, not 0"),
    ("def f() -> (a, b):\n  true\npackage p = f()\n",
     "package `p` must have exactly one output, but function `f` has 2"),
], ids=["none", "two-from-function"])
def test_package_needs_exactly_one_output(tmp_path, src, message):
    assert error(tmp_path, src)[2] == message


def test_package_built_from_a_function(tmp_path):
    src = 'def create(packages="", extra="-c x") -> out:\n  touch $out\npackage env = create(packages="py")\n'
    (job,) = targets(plan(tmp_path, src, "env"))
    assert var(job, "packages") == "py" and var(job, "extra") == "-c x"
    assert job.outputs == (("out", "out"),) and job.script == "touch $out"


def test_package_depending_on_a_task_is_an_error(tmp_path):  # a package depends only on values and packages
    src = "task t -> o:\n  touch $o\npackage p(x=$t.o) -> out:\n  touch $out\n"
    assert error(tmp_path, src) == (3, 13, "package `p` depends on task `t`")


def test_package_depending_via_a_decorator_argument_is_an_error(tmp_path):
    src = ("task t -> o:\n  touch $o\nclass d(e):\n  def run(s):\n    . $s\n"
           "@d(e=$t.o)\npackage p -> out:\n  touch $out\n")
    assert error(tmp_path, src)[2] == "package `p` depends on task `t`"


def test_function_instantiation_variables(tmp_path):  # function defaults reach the script (HyperMake drops them)
    src = 'v = 7\ndef f(x, y="2") -> o:\n  echo $x $y > $o\ntask t(a=$v) -> o = f(x=$a)\n'
    (job,) = targets(plan(tmp_path, src, "t"))
    assert dict(job.variables) == {"x": "7", "y": "2", "a": "7", "o": f"{tmp_path}/out/t/default/o"}
    assert job.script == "echo $x $y > $o"


def test_output_local_is_its_file_name(tmp_path):
    src = 'def f(dst) -> o:\n  touch $dst\ntask t -> (o="res.txt") = f(dst=$o)\n'
    (job,) = targets(plan(tmp_path, src, "t"))
    assert var(job, "dst") == "res.txt"


@pytest.mark.parametrize("src, where", [
    ("def f(x) -> o:\n  touch $o\ntask t -> o = f()\n", (3, 15, "missing argument `x` for function `f`")),
    ("task t(x) -> o:\n  touch $o\n", (1, 8, "input `x` has no value")),
    ("def f(x) -> o:\n  touch $o\ntask t -> o = f(x=1, z=2)\n", (3, 22, "function `f` has no parameter `z`")),
    ("task t -> o = g()\n", (1, 15, "undefined function `g`")),
], ids=["missing-argument", "bare-input", "unknown-argument", "undefined-function"])
def test_function_and_input_errors(tmp_path, src, where):  # HyperMake reads a bare `x` as `x="x"`, hiding a forgotten argument
    assert error(tmp_path, src) == where


def test_required_parameter_may_come_from_a_task_input(tmp_path):
    src = "def f(x) -> o:\n  touch $o\ntask t(x=1) -> o = f()\n"
    assert var(targets(plan(tmp_path, src, "t"))[0], "x") == "1"


def test_call_arguments_referencing_outputs_are_dependencies(tmp_path):  # HyperMake drops them, so the producer may not have run
    src = "task u -> o:\n  touch $o\ndef f(x) -> o:\n  cp $x $o\ntask t -> o = f(x=$u.o)\n"
    assert load(tmp_path, src).tasks["t"].upstream == ("u",)
    graph = plan(tmp_path, src, "t")
    job = targets(graph)[0]
    assert job.deps == ("u",) and var(job, "x") == f"{tmp_path}/out/u/default/o"
    assert [i.name for i in job.inputs] == []  # no symlink for call arguments
    assert set(graph.jobs) == {"t", "u"}


def test_call_argument_axes_are_task_axes(tmp_path):
    src = "def f(x) -> o:\n  touch $o\ntask t -> o = f(x={M: m1 m2})\n"
    assert load(tmp_path, src).tasks["t"].axes == ("M",)


def test_precedence_task_input_beats_call_argument(tmp_path):
    src = 'def f(x="d") -> o:\n  touch $o\ntask t(x=mine) -> o = f(x=call)\n'
    assert var(targets(plan(tmp_path, src, "t"))[0], "x") == "mine"


def test_a_task_on_a_file_system_without_execute_is_an_error(tmp_path):
    src = 'object srv:\n  root = "/r"\ntask t@srv -> o:\n  touch $o\n'
    assert error(tmp_path, src)[2] == "file system `srv` cannot run task `t`: it has no function `execute`"
    load(tmp_path, "task t@local -> o:\n  touch $o\n")


@pytest.mark.parametrize("header", [
    "task t(stdout=1) -> o:", "task t -> exitcode:", "task t -> (o=\"args\"):", "task t(script=1) -> o:",
    "task t -> (o=\"job.json\"):",
], ids=["input", "output", "output-file", "script", "job-json"])
def test_reserved_names_are_rejected(tmp_path, header):  # they would clash with the job's own files
    assert "reserved" in error(tmp_path, header + "\n  touch $o\n")[2]


def test_outputs_must_be_plain_file_names(tmp_path):
    src = "task u -> o:\n  touch $o\ntask t -> (o=$u.o):\n  touch $o\n"
    assert error(tmp_path, src)[2] == "output `o` must be a file name"


def test_input_and_output_may_not_share_a_name(tmp_path):
    message = error(tmp_path, "task t(o=1) -> o:\n  touch $o\n")[2]
    assert message == "`o` is both an input and an output of `t`"


def test_ephemeral_flag(tmp_path):
    src = "ephemeral task e -> o:\n  touch $o\n"
    assert plan(tmp_path, src, "e").jobs["e"].ephemeral and load(tmp_path, src).tasks["e"].ephemeral


# --------------------------------------------------------------------------------------------- decorators

DECO = """
class wrap(e):
  def run(inner):
    . $inner
object plain:
  def run(inner):
    bash $inner
"""


def test_decorators_innermost_first_with_their_variables(tmp_path):
    src = DECO + "@plain\n@wrap(e={E: p q})\ntask t(x=1) -> o:\n  touch $o\n"
    pipeline = load(tmp_path, src)
    assert pipeline.tasks["t"].axes == ("E",)
    jobs = targets(plan(tmp_path, src, "t[E: *]"))
    job = jobs[1]
    assert [(d.name, d.script, d.param, d.variables) for d in job.decorators] == [
        ("wrap", ". $inner", "inner", (("e", "q"),)),
        ("plain", "bash $inner", "inner", ()),
    ]
    assert var(job, "e") == "q" and job.script == "touch $o"


def test_decorator_argument_outputs_are_dependencies_linked_on_local(tmp_path):
    src = DECO + "package env -> out:\n  touch $out\n@wrap(e=$env)\ntask t -> o:\n  touch $o\n"
    (job,) = targets(plan(tmp_path, src, "t"))
    assert job.deps == ("env",) and var(job, "e") == f"{tmp_path}/out/env/default/out"
    assert link(job, "e").target == f"{tmp_path}/out/env/default/out"
    assert job.decorators[0].variables == (("e", f"{tmp_path}/out/env/default/out"),)


def test_decorator_argument_beats_task_input(tmp_path):
    src = DECO + "@wrap(e=deco)\ntask t(e=mine) -> o:\n  touch $o\n"
    assert var(targets(plan(tmp_path, src, "t"))[0], "e") == "deco"


@pytest.mark.parametrize("run, count", [("def run():", 0), ("def run(a, b):", 2)], ids=["zero", "two"])
def test_run_must_take_exactly_one_parameter(tmp_path, run, count):
    src = f"object d:\n  {run}\n    true\n@d\ntask t -> o:\n  touch $o\n"
    exc = failure(tmp_path, src)
    assert exc.diagnostic.message == (f"the `run` function of decorator `d` must take exactly one parameter, "
                                      f"not {count}")
    assert exc.diagnostic.span.line == 4 and exc.diagnostic.labels[0].span.line == 2


@pytest.mark.parametrize("src, message", [
    ("@nope\ntask t -> o:\n  touch $o\n", "undefined decorator `nope`"),
    ("object d:\n  x = 1\n@d\ntask t -> o:\n  touch $o\n", "decorator `d` has no function `run`"),
    ("object d:\n  def run(s):\n    true\n@d(a=1)\ntask t -> o:\n  touch $o\n",
     "decorator `d` is an object and takes no arguments"),
    ("class c(a):\n  def run(s):\n    true\n@c\ntask t -> o:\n  touch $o\n",
     "missing argument `a` for class `c`"),
], ids=["undefined", "no-run", "object-with-args", "missing-class-arg"])
def test_decorator_errors(tmp_path, src, message):
    assert error(tmp_path, src)[2] == message


def test_resources_decorator_fills_job_resources(tmp_path):
    src = ('class resources(cpus="1", gpus="0", memory="", custom=""):\n  def run(s):\n    . $s\n'
           '@resources(cpus="4", gpus={G: small=0 large=0.5}, memory="2G", custom="ssd=1")\n'
           "task t -> o:\n  touch $o\n")
    jobs = targets(plan(tmp_path, src, "t[G: *]"))
    assert jobs[1].resources.cpus == 4 and jobs[1].resources.gpus == 0.5
    assert jobs[0].resources.memory == 2 * 1024**3 and jobs[0].resources.custom == (("ssd", 1.0),)


def test_runner_decoration_is_recorded(tmp_path):
    src = "object r:\n  def submit(f, wd):\n    true\n  def poll(h):\n    true\n@@r\ntask t -> o:\n  touch $o\n"
    runner = targets(plan(tmp_path, src, "t"))[0].runner
    assert runner.name == "r" and runner.function("submit").params == ("f", "wd")


def test_undefined_file_system(tmp_path):
    exc = failure(tmp_path, 'task t(x="p"@s4) -> o:\n  touch $o\n')
    assert isinstance(exc, ResolutionError) and exc.diagnostic.message == "undefined file system `s4`"


def test_decorator_argument_beats_an_output_of_the_same_name(tmp_path):
    src = DECO + "@wrap(e=deco)\ntask t -> e:\n  touch $e\n"
    (job,) = targets(plan(tmp_path, src, "t"))
    assert var(job, "e") == "deco" and job.outputs == (("e", "e"),)
