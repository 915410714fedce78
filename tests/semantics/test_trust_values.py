"""Values reach the right task: caches never hand one definition's value to another, `-D` overrides are
checked expressions, function-call tasks get their function's outputs, outputs stay in their job directory."""

from __future__ import annotations

import gc

import pytest

from hypermetric import api
from hypermetric.semantics.axes import AxisRegistry
from hypermetric.semantics.cycles import Guard
from hypermetric.semantics.entities import ValueDef
from hypermetric.semantics.inline import InlineCommands
from hypermetric.semantics.namespace import Scope
from hypermetric.semantics.resolver import Resolver
from hypermetric.syntax import ast
from semantics.helpers import error, failure, load, plan, targets, var, where

DECORATED = 'class deco(val):\n  def run(inner):\n    echo "$val" > out\n    bash -e "$inner"\n' + "".join(
    f'@deco(val="v{i}")\ntask t{i} -> out:\n  true\n' for i in range(30))


def test_each_task_keeps_its_own_decorator_arguments(tmp_path):
    graph = plan(tmp_path, DECORATED, *(f"t{i}" for i in range(30)))
    for i in range(30):
        (layer,) = graph.jobs[f"t{i}"].decorators
        assert dict(layer.variables)["val"] == f"v{i}"


def test_the_value_cache_never_confuses_a_freed_definition_with_a_new_one(tmp_path):
    # Each definition is dropped right after use, so CPython hands its address to the next one: a cache keyed
    # by `id()` would return the first value every time.
    resolver = Resolver(AxisRegistry(), InlineCommands(str(tmp_path)), Guard())
    scope = Scope("", None)
    for i in range(50):
        vdef = ValueDef("x", ast.StrLit(f"v{i}"), scope)
        assert resolver.value(vdef).at({}).text == f"v{i}"  # type: ignore[attr-defined]
        del vdef
        gc.collect()


def test_decorated_tasks_keep_their_values_across_collections(tmp_path):
    pipeline = load(tmp_path, DECORATED)
    gc.collect()
    for i in range(30):
        graph = api.plan(pipeline, [f"t{i}"])
        gc.collect()
        assert var(graph.jobs[f"t{i}"], "out").endswith("/out")
        assert dict(graph.jobs[f"t{i}"].decorators[0].variables)["val"] == f"v{i}"


# ------------------------------------------------------------------------ `task t(…) = f(…)` without `->`

FUNCTION_TASK = """
a = {A: one two}
def f(x) -> (o, p="p.txt"):
  echo "$x" > $o
task t(x=$a) = f(x=$x)
task u(i=$t.o, j=$t.p) -> out:
  cat $i $j > $out
"""


def test_a_function_call_task_without_outputs_takes_the_functions_outputs(tmp_path):
    graph = plan(tmp_path, FUNCTION_TASK, "u[A: two]")
    t = graph.jobs["t?A=two"]
    assert dict(t.outputs) == {"o": "o", "p": "p.txt"}
    assert var(t, "o") == f"{tmp_path}/out/t/A=two/o" and var(t, "x") == "two"
    assert var(graph.jobs["u?A=two"], "j") == f"{tmp_path}/out/t/A=two/p.txt"


def test_a_function_call_task_with_outputs_keeps_its_own(tmp_path):
    src = "def f(x) -> o:\n  echo $x > $o\ntask t -> (q) = f(x=1)\n"
    (job,) = targets(plan(tmp_path, src, "t"))
    assert dict(job.outputs) == {"q": "q"}


# ------------------------------------------------------------------------------ outputs stay in the job dir

@pytest.mark.parametrize(("src", "expected"), [
    ('task t -> (o="../x"):\n  true\n', (1, 14, "output file `../x` is outside the job directory")),
    ('task t -> (o="/tmp/x"):\n  true\n', (1, 14, "output file `/tmp/x` is an absolute path: outputs must be "
                                                  "inside the job directory")),
    ('task t -> (o="a/../../x"):\n  true\n', (1, 14, "output file `a/../../x` is outside the job directory")),
    ('task t -> (o="."):\n  true\n',
     (1, 14, "output file `.` does not name a file inside the job directory")),
    ('task t -> (o="a/../script"):\n  true\n', (1, 14, "output file `a/../script` is reserved for the job "
                                                       "directory and cannot be an output")),
    ('v = {V: ok "../../../tmp/x"}\ntask t -> (o=$v):\n  true\n',
     (1, 12, "output file `../../../tmp/x` is outside the job directory")),
    ('def f() -> (o="../x"):\n  true\ntask t = f()\n',
     (1, 15, "output file `../x` is outside the job directory")),
])
def test_an_output_outside_its_job_directory_is_a_located_error(tmp_path, src, expected):
    assert error(tmp_path, src) == expected


def test_an_output_named_by_a_value_points_at_the_output_too(tmp_path):
    exc = failure(tmp_path, 'v = {V: ok "../x"}\ntask t -> (o=$v):\n  true\n')
    (label,) = exc.diagnostic.labels
    assert label.message == "the file of output `o`" and label.span.text() == "o=$v"


def test_an_output_may_name_a_file_below_the_job_directory(tmp_path):
    (job,) = targets(plan(tmp_path, 'task t -> (o="a/../b", p="sub/q"):\n  true\n', "t"))
    assert dict(job.outputs) == {"o": "a/../b", "p": "sub/q"}


# ---------------------------------------------------------------------------------------------------- -D

SWEEP = """
model = {Model: bm25 dpr}
index = {Model: bm25="i1" dpr="i2"}
lr = 0.1
object o:
  x = 1
  y = $x
task t(model=$, index=$, lr=$, y=$o.y) -> out:
  true
"""


def test_define_with_a_dict_widens_a_sweep(tmp_path):
    src = SWEEP.replace('dpr="i2"', 'dpr="i2" colbert="i3"')
    src = src.replace("task t(model=$, index=$", "task t(index=$")
    pipeline = load(tmp_path, src, defines={"model": "{Model: bm25 dpr colbert}"})
    assert pipeline.axis("Model").keys == ("bm25", "dpr", "colbert")
    graph = api.plan(pipeline, ["t[Model: *]"])
    assert [var(j, "index") for j in targets(graph)] == ["i1", "i2", "i3"]


def test_define_with_a_dict_narrows_a_sweep(tmp_path):
    pipeline = load(tmp_path, SWEEP, defines={"model": "{Model: dpr}"})
    assert pipeline.axis("Model").keys == ("dpr",)
    assert [var(j, "index") for j in targets(api.plan(pipeline, ["t[Model: *]"]))] == ["i2"]


def test_define_keeps_the_files_order_of_axes(tmp_path):
    src = "b = {B: x y}\na = {A: p q}\ntask t(a=$, b=$) -> o:\n  true\n"
    pipeline = load(tmp_path, src, defines={"a": "{A: q}"})
    assert [a.name for a in pipeline.axes] == ["B", "A"]


def test_define_with_a_reference_and_a_quoted_string(tmp_path):
    graph = plan(tmp_path, SWEEP, "t", defines={"o.x": "$lr", "lr": '"0.5 0.25"'})
    (job,) = targets(graph)
    assert (var(job, "lr"), var(job, "y")) == ("0.5 0.25", "0.5 0.25")


def test_define_of_unquoted_text_is_that_text(tmp_path):
    (job,) = targets(plan(tmp_path, SWEEP, "t", defines={"lr": "a=b c"}))
    assert var(job, "lr") == "a=b c"


def test_define_overrides_a_class_argument(tmp_path):
    src = "class c(r):\n  task t(r=$) -> o:\n    true\nobject i = c(r=1)\n"
    (job,) = targets(plan(tmp_path, src, "i.t", defines={"i.r": "{R: a b}"}))
    assert var(job, "r") == "a"


def test_define_of_an_unknown_name_is_an_error_with_a_suggestion(tmp_path):
    exc = failure(tmp_path, SWEEP, defines={"modle": "x"})
    assert where(exc) == (1, 1, "`-D` names no value `modle`")
    assert exc.diagnostic.help == "did you mean `model`?"
    assert exc.diagnostic.span.file.path == "-D" and exc.diagnostic.span.text() == "modle"


def test_define_of_a_built_in_setting_needs_no_definition_in_the_file(tmp_path):
    assert load(tmp_path, SWEEP, defines={"local.root": "/tmp/elsewhere"}).root == "/tmp/elsewhere"


@pytest.mark.parametrize(("text", "expected"), [
    ("{Model: bm25", (1, 7, "a `-D` value must be one HyperMake expression")),
    ('"a" b', (1, 11, "a `-D` value must be one HyperMake expression")),
    ("$nosuch", (1, 7, "undefined name `nosuch`")),
])
def test_a_bad_define_value_is_located_in_the_define(tmp_path, text, expected):
    exc = failure(tmp_path, SWEEP, defines={"model": text})
    assert where(exc) == expected and exc.diagnostic.span.file.path == "-D"


def test_a_dict_lacking_a_key_the_define_adds_is_an_error(tmp_path):
    line, col, message = error(tmp_path, SWEEP, defines={"model": "{Model: bm25 bad}"})
    assert (line, col, message) == (2, 10, "this dict on axis `Model` has no key `bad`")


def test_a_define_naming_an_output_file_is_checked_too(tmp_path):
    src = 'v = ok\ntask t -> (o=$v):\n  true\n'
    exc = failure(tmp_path, src, defines={"v": '"../../x"'})
    assert where(exc) == (1, 3, "output file `../../x` is outside the job directory")


# ------------------------------------------------------------------------------------------------ runners

@pytest.mark.parametrize(("functions", "expected"), [
    ("  def submit(a, b, c):\n    true\n  def poll(j):\n    true\n",
     (2, 3, "runner function `r.submit` must take 1 or 2 parameters, not 3")),
    ("  def submit():\n    true\n  def poll(j):\n    true\n",
     (2, 3, "runner function `r.submit` must take 1 or 2 parameters, not 0")),
    ("  def submit(f):\n    true\n  def poll():\n    true\n",
     (4, 3, "runner function `r.poll` must take 1 parameter, not 0")),
    ("  def submit(f):\n    true\n  def poll(j):\n    true\n  def cancel(a, b):\n    true\n",
     (6, 3, "runner function `r.cancel` must take 1 parameter, not 2")),
])
def test_a_runner_function_with_the_wrong_parameters_is_a_load_time_error(tmp_path, functions, expected):
    src = "object r:\n" + functions + "@@r\ntask t:\n  true\n"
    assert error(tmp_path, src) == expected


def test_runner_submit_may_take_one_or_two_parameters_and_extra_defaults(tmp_path):
    for submit in ("submit(script_file)", "submit(script_file, wd)", 'submit(script_file, queue="q")'):
        src = f"object r:\n  def {submit}:\n    true\n  def poll(job_id):\n    echo 0\n@@r\ntask t:\n  true\n"
        assert targets(plan(tmp_path, src, "t"))[0].runner is not None
