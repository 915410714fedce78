"""End-to-end through the CLI: every job gets its own values (whatever the hash seed), `-D` overrides are
checked HyperMake expressions, function-call tasks get their function's outputs, `@@runner`s written as in
HyperMake's docs work, and no output can be written outside the output root."""

from __future__ import annotations

import pytest
from support.hypermake_docs import POPEN_RUNNER, with_refresh_interval

DECORATED = 'class deco(val):\n  def run(inner):\n    echo "$val" > out\n    bash -e "$inner"\n' + "".join(
    f'@deco(val="v{i}")\ntask t{i} -> out:\n  true\n' for i in range(30)) + (
    "plan all = { " + " ".join(f"t{i}" for i in range(30)) + " }\n")


@pytest.mark.parametrize("seed", ["1", "2", "3", "4", "5", "6"])
def test_decorator_arguments_never_alias_between_tasks(project, seed):
    project.write("main.hm", DECORATED)
    project.sh("run", "main.hm", "all", "-j4", "-s", env={"PYTHONHASHSEED": seed}).ok()
    assert [project.read(f"out/t{i}/default/out") for i in range(30)] == [f"v{i}\n" for i in range(30)]


SWEEP = """
model = {Model: bm25}
task t(model=$) -> out:
  echo "$model" > $out
"""


def test_define_with_a_dict_widens_a_sweep_from_the_command_line(project):
    project.write("main.hm", SWEEP)
    project.sh("run", "main.hm", "t[Model: *]", "-D", "model={Model: bm25 dpr}").ok()
    assert project.read("out/t/default/out") == "bm25\n" and project.read("out/t/Model=dpr/out") == "dpr\n"


def test_define_of_an_unknown_name_exits_2_with_a_suggestion(project):
    project.write("main.hm", SWEEP)
    result = project.sh("run", "main.hm", "t", "-D", "modle=3").user_error()
    assert "-D:1:1: error: `-D` names no value `modle`" in result.err
    assert "did you mean `model`?" in result.err
    assert not project.path("out").exists()


def test_a_function_call_task_gets_the_functions_outputs(project):
    project.write("main.hm", """
    a = {A: one two}
    def f(x) -> (o, p="p.txt"):
      echo "$x" > $o
      echo "p $x" > $p
    task t(x=$a) = f(x=$x)
    task u(i=$t.o, j=$t.p) -> out:
      cat $i $j > $out
    """)
    project.sh("run", "main.hm", "u[A: *]").ok()
    assert project.read("out/u/default/out") == "one\np one\n"
    assert project.read("out/u/A=two/out") == "two\np two\n"


POPEN = with_refresh_interval(POPEN_RUNNER, "0.1") + """
@@popen
task t(x="hi") -> o:
  echo "out $x"
  echo "$x" > $o
"""


def test_the_runner_of_hypermakes_docs_runs_in_the_job_directory(project):
    project.write("main.hm", POPEN)
    result = project.sh("run", "main.hm", "t").ok()
    assert "t[default]> out hi" in result.out
    assert project.read("out/t/default/o") == "hi\n" and project.read("out/t/default/stdout") == "out hi\n"
    assert project.path("out/t/default/pid").exists()
    assert project.read("out/t/default/exitcode").strip() == "0"
    assert not project.path("pid").exists() and not project.path("stdout").exists()


def test_a_runner_function_with_the_wrong_parameters_is_reported_before_running(project):
    project.write("main.hm", POPEN.replace("def poll(pid)", "def poll(pid, extra)"))
    result = project.sh("run", "main.hm", "t").user_error()
    assert "main.hm:10:3: error: runner function `popen.poll` must take 1 parameter, not 2" in result.err
    assert "internal error" not in result.err and not project.path("out").exists()


@pytest.mark.parametrize("output", ['$v', '"../../../escaped"'])
def test_an_output_cannot_be_written_outside_the_root(project, output):
    project.write("main.hm", f"""
    v = {{V: ok "../../../escaped"}}
    task t -> (o={output}):
      echo hi > $o
    """)
    result = project.sh("run", "main.hm", "t[V: *]").user_error()
    assert "error: output file `../../../escaped` is outside the job directory" in result.err
    assert not project.path("out").exists() and not project.path("escaped").exists()
    assert not (project.root.parent / "escaped").exists()
