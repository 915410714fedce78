"""Hyperctl batch files through the real CLI: the documented examples, typed params, caching, targets, errors."""

from __future__ import annotations

import json
import os
import sys
import textwrap

import pytest

IRIS_JOB = """\
import hypermetric

job_params = hypermetric.get_job_params()  # read job params as a dict, as with Hyperctl
tol = job_params['tol']
assert isinstance(tol, int), type(tol)  # the JSON number, not the text "1"
score = 1.0 / (1 + tol)
print(f"tol: {tol}, accuracy_score: {score}")
with open("metrics.json", "w") as f:
    f.write('{"accuracy": %r}' % score)
"""


@pytest.fixture(autouse=True)
def _environment(monkeypatch):
    """No Hyperctl root from the environment; `python` and `python3` in commands are this interpreter."""
    monkeypatch.delenv("HYPERCTL_BATCHES_DATA_DIR", raising=False)
    monkeypatch.setenv("PATH", os.pathsep.join([os.path.dirname(sys.executable), os.environ["PATH"]]))


def _iris_batch(project, jobs=(("tol_1", 1), ("tol_100", 100))) -> None:
    project.write("sklearn_iris_example.py", IRIS_JOB)
    script = project.path("sklearn_iris_example.py")
    batch = {"name": "sklearn_iris_example",
             "jobs": [{"name": name, "params": {"tol": tol}, "command": f"python {script}",
                       "outputs": {"metrics": "metrics.json"}} for name, tol in jobs]}
    project.write("batch.json", json.dumps(batch, indent=4))


def test_the_documented_batch_runs_with_typed_params(project):
    _iris_batch(project)
    result = project.sh("run", "batch.json").ok()
    assert "2 succeeded" in result.out
    assert project.read("out/sklearn_iris_example/tol_1/stdout") == "tol: 1, accuracy_score: 0.5\n"
    assert project.read("out/sklearn_iris_example/tol_100/stdout").startswith("tol: 100, accuracy_score: 0.0099")
    table = project.sh("results", "batch.json", "sklearn_iris_example[tol: *]", "--format", "csv").ok().out
    assert table.splitlines() == ['"tol","status","accuracy"', '"1","COMPLETE",0.5',
                                  '"100","COMPLETE",0.009900990099009901']


def test_a_rerun_skips_finished_jobs_and_runs_new_ones(project):
    _iris_batch(project, jobs=(("tol_1", 1),))
    project.sh("run", "batch.json").ok()
    first = project.read("out/sklearn_iris_example/tol_1/job.json")
    _iris_batch(project)
    result = project.sh("run", "batch.json").ok()
    assert "1 succeeded" in result.out and "1 complete" in result.out, result.out
    assert project.read("out/sklearn_iris_example/tol_1/job.json") == first  # not run again
    assert project.path("out/sklearn_iris_example/tol_100/exitcode").read_text() == "0"
    assert "2 complete" in project.sh("run", "batch.json").ok().out


def test_a_changed_command_makes_the_job_outdated(project):
    project.write("batch.json", json.dumps({"name": "b", "jobs": [
        {"name": "only", "params": {"x": "a b"}, "command": 'echo "$x" > out.txt', "outputs": {"o": "out.txt"}}]}))
    project.sh("run", "batch.json").ok()
    assert project.read("out/b/only/out.txt") == "a b\n"
    project.write("batch.json", project.read("batch.json").replace("echo", "printf '%s!\\\\n'"))
    assert "OUTDATED" in project.sh("dry-run", "batch.json").ok().out
    project.sh("run", "batch.json").ok()
    assert project.read("out/b/only/out.txt") == "a b!\n"


def test_generate_expands_the_documented_template(project):
    project.write("job-template.yml", """
        params:
            learning_rate: [0.1,0.2]
            max_depth: [3, 5]
        command: python3 cli.py
        """)
    project.sh("generate", "--template", "./job-template.yml", "--output", "./batch.json").ok()
    batch = json.loads(project.read("batch.json"))
    assert [job["params"] for job in batch["jobs"]] == [
        {"learning_rate": 0.1, "max_depth": 3}, {"learning_rate": 0.1, "max_depth": 5},
        {"learning_rate": 0.2, "max_depth": 3}, {"learning_rate": 0.2, "max_depth": 5}]
    assert {job["command"] for job in batch["jobs"]} == {"python3 cli.py"}
    assert len({job["name"] for job in batch["jobs"]}) == 4


def test_a_generated_batch_runs_in_its_working_dir(project):
    project.write("cli.py", """
        import hypermetric
        p = hypermetric.job_params()
        print(type(p["learning_rate"]).__name__, p["learning_rate"] * 10, p["max_depth"] + 1)
        """)
    project.write("job-template.yml", f"""
        name: trees
        params:
            learning_rate: [0.1, 0.2]
            max_depth: [3, 5]
        command: python3 cli.py
        working_dir: {project.root}
        """)
    project.sh("generate", "--template", "job-template.yml", "--output", "batch.json").ok()
    project.sh("run", "batch.json", "-j", "2").ok()
    assert project.read("out/trees/learning_rate=0.2&max_depth=5/stdout") == "float 2.0 6\n"
    assert project.read("out/trees/learning_rate=0.1&max_depth=3/stdout") == "float 1.0 4\n"


def test_targets_select_jobs_by_name_or_params(project):
    project.write("batch.yml", """
        name: grid
        batches_data_dir: results
        jobs:
          - {name: a, params: {m: x, n: 1}, command: "echo $m$n"}
          - {name: b, params: {m: y, n: 1}, command: "echo $m$n"}
          - {name: c, params: {m: y, n: 2}, command: "echo $m$n"}
        """)
    lines = project.sh("dry-run", "batch.yml", "grid[m: y, n: *]").ok().out
    assert "grid[m: y] PENDING" in lines and "grid[m: y, n: 2] PENDING" in lines and "3 jobs" not in lines
    assert project.sh("get-path", "batch.yml", "a").ok().out == f"{project.root}/results/grid/a\n"
    project.sh("run", "batch.yml", "c").ok()
    assert project.read("results/grid/c/stdout") == "y2\n" and not project.path("results/grid/a").exists()
    described = json.loads(project.sh("describe", "batch.yml", "c").ok().out)
    assert described[0]["status"] == "success" and described[0]["args"] == {"m": "y", "n": "2"}
    project.sh("invalidate", "batch.yml", "c", "-y").ok()
    assert not project.path("results/grid/c/exitcode").exists()
    project.sh("remove", "batch.yml", "c", "-y").ok()
    assert not project.path("results/grid/c").exists()
    error = project.sh("run", "batch.yml", "grid[m: x, n: 2]").user_error()
    assert "no job of batch `grid` matches" in error.err


def test_jobs_with_the_same_params_get_a_job_axis(project):
    project.write("batch.json", json.dumps({"name": "same", "jobs": [
        {"name": "one", "params": {}, "command": "echo 1"}, {"name": "two", "params": {}, "command": "echo 2"}]}))
    project.sh("run", "batch.json").ok()
    assert project.read("out/same/two/stdout") == "2\n"
    assert "same[job: two]" in project.sh("dry-run", "batch.json", "same[job: two]").ok().out


@pytest.mark.parametrize(("text", "message"), [
    ('{"name": "b",\n "jobs": [}', "batch.json:2:11: error: invalid JSON"),
    ('{"name": "b", "jobs": [{"params": {}}]}', "the job needs a `command`"),
    ('{"name": "b", "jobs": [{"command": "true", "parms": {}}]}', "did you mean `params`?"),
    ('{"name": "b", "jobs": [{"command": "true", "params": {"a-b": 1}}]}', "`a-b` is not a valid parameter name"),
    ('{"name": "b/c", "jobs": [{"command": "true"}]}', "cannot be a directory name"),
    ('{"name": "b", "jobs": [{"command": "true", "outputs": {"o": "../x"}}]}', "inside the job directory"),
    ('{"name": "b", "jobs": [{"command": "true"}], "backend": {"type": "k8s"}}', "unknown backend `k8s`"),
])
def test_bad_batch_files_are_user_errors(project, text, message):
    project.write("batch.json", text)
    assert message in project.sh("dry-run", "batch.json").user_error().err


def test_defines_do_not_apply_to_a_batch(project):
    project.write("batch.json", '{"name": "b", "jobs": [{"command": "true"}]}')
    assert "a batch file defines none" in project.sh("run", "batch.json", "-D", "x=1").user_error().err


def test_generate_needs_an_existing_template(project):
    assert "does not exist" in project.sh("generate", "--template", "nope.yml").user_error().err
    project.write("t.yml", "params: {a: []}\ncommand: x\n")
    assert "an empty list makes no jobs" in project.sh("generate", "--template", "t.yml").user_error().err
    project.write("t.yml", "params: {a: [1, 2]}\ncommand: echo $a\n")
    printed = json.loads(project.sh("generate", "--template", "t.yml").ok().out)
    assert printed["name"] == "t" and [j["params"]["a"] for j in printed["jobs"]] == [1, 2]


def test_typed_params_in_a_hm_pipeline_stay_text(project):
    project.write("main.hm", textwrap.dedent("""
        task t(tol={Tol: 1 100}) -> o:
          python -c 'import hypermetric; print(repr(hypermetric.job_params()["tol"]))' > $o
        """))
    project.sh("run", "main.hm", "t[Tol: 100]").ok()
    assert project.read("out/t/Tol=100/o") == "'100'\n"
