"""Decorator wrapping (`script`, `script.N`), the `args` file and the job variables."""

from __future__ import annotations

import json

from jobs import make_job, reduce_over

from hypermetric.execution.script import args_text, run_variables, shell_quote, wrap
from hypermetric.plan.job import DecoratorLayer


def test_without_decorators_only_script() -> None:
    job = make_job("/r", "t", "echo hi", variables={"x": "1"})
    prepared = wrap(job)
    assert prepared.files == (("script", "echo hi"),)
    assert prepared.variables == {"x": "1", "o": "/r/t/default/o"}


def test_layers_innermost_first() -> None:
    inner = DecoratorLayer("B", "B-body $f", "f", (("b", "2"), ("x", "from-B")))
    outer = DecoratorLayer("A", "A-body $g", "g", (("a", "1"),))
    job = make_job("/r", "t", "task-body", variables={"x": "task"}, decorators=[inner, outer])
    prepared = wrap(job)
    assert prepared.files == (("script.0", "task-body"), ("script.1", "B-body $f"), ("script", "A-body $g"))
    assert prepared.variables["f"] == "script.0" and prepared.variables["g"] == "script.1"
    assert prepared.variables["x"] == "from-B" and prepared.variables["a"] == "1"


def test_shell_quote_and_args_lines() -> None:
    assert shell_quote("it's") == "'it'\\''s'"
    assert args_text({"b": "it's", "a": ""}) == "a=''\nb='it'\\''s'\n"


def test_job_variables_for_a_case() -> None:
    layer = DecoratorLayer("A", "x", "inner")
    job = make_job("/r", "t", case=[("A", "y"), ("B", "p q")], variables={"z": "1"}, decorators=[layer])
    env = run_variables(job, wrap(job), "uuid-1")
    assert env["HYPERMAKE_JOB_ID"] == "t?A=y&B=p+q"
    assert env["HYPERMAKE_JOB_DISPLAY_ID"] == "t[A: y, B: p q]"
    assert env["HYPERMAKE_JOB_NAME"] == "t"
    assert env["HYPERMAKE_JOB_CASE"] == "A: y, B: p q"
    assert json.loads(env["HYPERMAKE_JOB_CASE_JSON"]) == {"A": "y", "B": "p q"}
    assert env["HYPERMAKE_JOB_CASE_JSON"] == '{"A":"y","B":"p q"}'
    assert env["HYPERMAKE_JOB_WD"] == "/r/t/A=y&B=p+q"
    assert env["HYPERMAKE_JOB_UUID"] == "uuid-1"
    assert env["HYPERMAKE_JOB_WRAPPED_SCRIPTS"] == "script.0"
    assert env["HYPERMAKE_JOB_ENV_VARS"] == "inner='script.0' o='/r/t/A=y&B=p+q/o' z='1'"


def test_default_case_variables() -> None:
    job = make_job("/r", "t")
    env = run_variables(job, wrap(job), "u")
    assert env["HYPERMAKE_JOB_CASE"] == "" and env["HYPERMAKE_JOB_CASE_JSON"] == "{}"
    assert env["HYPERMAKE_JOB_WRAPPED_SCRIPTS"] == ""


def test_reduction_variable_is_the_folder_in_the_job_dir() -> None:
    ups = [make_job("/r", "u", case=[("A", k)]) for k in ("x", "y")]
    job = reduce_over("/r", "r", "ls $d", ups, "A", variables={"d": "ignored"})
    assert run_variables(job, wrap(job), "u")["d"] == "/r/r/default/d"


def test_layers_sharing_a_parameter_name_rebind_it() -> None:
    inner = DecoratorLayer("tagged", '. "$inner"', "inner", (("tag", "one"),))
    outer = DecoratorLayer("shout", 'bash -e "$inner"', "inner")
    prepared = wrap(make_job("/r", "t", "task", decorators=[inner, outer]))
    assert prepared.files == (("script.0", "task"), ("script.1", "export inner='script.0'\n. \"$inner\""),
                              ("script", 'bash -e "$inner"'))
    assert prepared.variables["inner"] == "script.1"
