"""`hypermetric.api` alone drives a whole pipeline: load, plan, run, results, invalidate, remove, touch, unlock,
runs and diff; and the `hypermetric` command prints what the API returns."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from hypermetric import api
from hypermetric.errors import UsageError
from hypermetric.execution.choice import choose_backend
from hypermetric.execution.events import JobStarted, JobSucceeded, RunFinished

PIPELINE = """\
k = {K: 1 2 3}
task t(k=$) -> out:
  echo "{\\"score\\": $k}" > $out
task u(x=$t.out) -> o:
  cat $x > $o
task total(s=$t[K: *].out) -> o:
  ls $s > $o
"""


@pytest.fixture
def pipeline(tmp_path: Path) -> api.Pipeline:
    (tmp_path / "p.hm").write_text(PIPELINE)
    return api.load(str(tmp_path / "p.hm"), cwd=str(tmp_path))


def _run(graph: api.JobGraph, **options) -> api.RunReport:
    return api.run(graph, api.RunOptions(silent=True, backend="local", **options))


def test_load_plan_run_results_invalidate(pipeline: api.Pipeline, tmp_path: Path) -> None:
    graph = api.plan(pipeline, ["u[K: *]"])
    assert sorted(graph.jobs) == sorted(["t", "t?K=2", "t?K=3", "u", "u?K=2", "u?K=3"])
    events: list[object] = []
    report = api.run(graph, api.RunOptions(jobs=2, backend="local"), on_event=events.append)
    assert report.exit_code == api.ExitCode.OK and not report.failures
    assert report.count(api.JobStatus.SUCCESS) == 6
    assert sum(isinstance(e, JobStarted) for e in events) == 6 == sum(isinstance(e, JobSucceeded) for e in events)
    assert isinstance(events[-1], RunFinished)
    assert (tmp_path / "out" / "u" / "K=3" / "o").read_text() == '{"score": 3}\n'

    table = api.results(pipeline, "t[K: *]")
    assert table.column_names == ["K", "status", "score"]
    assert table.to_pylist() == [{"K": k, "status": "COMPLETE", "score": int(k)} for k in "123"]

    invalidated = api.invalidate(pipeline, ["t[K: 2]"])
    assert [job.id for job in invalidated] == ["u?K=2", "t?K=2"]   # dependents first
    assert [row["status"] for row in api.results(pipeline, "t[K: *]").to_pylist()] == [
        "COMPLETE", "PENDING", "COMPLETE"]
    again = _run(api.plan(pipeline, ["u[K: *]"]))
    assert again.count(api.JobStatus.SUCCESS) == 2 and again.count(api.JobStatus.COMPLETE) == 4


def test_touch_remove_and_unlock(pipeline: api.Pipeline, tmp_path: Path) -> None:
    (touched,) = api.touch(pipeline, ["t[K: 3]"])
    assert touched.id == "t?K=3"
    assert api.statuses([touched]) == [api.JobStatus.COMPLETE]
    assert (tmp_path / "out" / "t" / "K=3" / "out").read_text() == ""   # touch makes outputs empty
    lock = tmp_path / "out" / "t" / "K=3" / ".lock"
    lock.write_text("")   # left behind by a killed run
    assert [job.id for job in api.affected("unlock", pipeline, ["t[K: *]"])] == ["t?K=3"]
    assert [job.id for job in api.unlock(pipeline, ["t[K: *]"])] == ["t?K=3"] and not lock.exists()
    assert api.unlock(pipeline, ["t[K: *]"]) == []
    api.remove(pipeline, ["t[K: 3]"])
    assert not (tmp_path / "out" / "t" / "K=3").exists()


def test_a_failed_job_is_in_the_report_not_an_exception(tmp_path: Path) -> None:
    (tmp_path / "p.hm").write_text("task bad -> o:\n  exit 3\n")
    pipeline = api.load(str(tmp_path / "p.hm"), cwd=str(tmp_path))
    report = _run(api.plan(pipeline, ["bad"]))
    assert report.exit_code == api.ExitCode.JOB_FAILED == 1
    assert [r.exit_code for r in report.failures] == [3]


def test_run_changes_no_environment_variable(pipeline: api.Pipeline, monkeypatch) -> None:
    monkeypatch.delenv("HYPERMETRIC_PYTHON", raising=False)
    before = dict(os.environ)
    # A Ray address is an option of the run, not an environment variable: with the local backend chosen it
    # is not used, and nothing is left behind in os.environ.
    _run(api.plan(pipeline, ["t"]), ray_address="127.0.0.1:1")
    assert dict(os.environ) == before


def test_options_are_typed_and_checked(pipeline: api.Pipeline) -> None:
    assert api.backend_name("ray") == "ray"
    with pytest.raises(UsageError, match="unknown backend `k8s`"):
        api.backend_name("k8s")
    with pytest.raises(UsageError, match="needs machines"):
        api.run(api.plan(pipeline, ["t"]), api.RunOptions(backend="remote"))
    with pytest.raises(AttributeError):
        api.RunOptions().jobs = 3  # type: ignore[misc]  # frozen: options are values
    assert choose_backend("auto") == "local"
    assert choose_backend("auto", ray_address="10.0.0.1:6379") == "ray"
    assert choose_backend("auto", ray_address="10.0.0.1:6379", machines=("m",)) == "remote"
    assert choose_backend("local", ray_address="10.0.0.1:6379") == "local"
    assert [int(c) for c in (api.ExitCode.OK, api.ExitCode.USER_ERROR, api.ExitCode.INTERNAL_ERROR,
                             api.ExitCode.INTERRUPTED, api.ExitCode.TERMINATED, api.ExitCode.HANGUP)] == [
        0, 2, 70, 130, 143, 129]


def test_root_is_a_load_option(tmp_path: Path) -> None:
    (tmp_path / "p.hm").write_text(PIPELINE)
    pipeline = api.load(str(tmp_path / "p.hm"), cwd=str(tmp_path), root="elsewhere")
    assert pipeline.root == str(tmp_path / "elsewhere")
    _run(api.plan(pipeline, ["t[K: 2]"]))
    assert (tmp_path / "elsewhere" / "t" / "K=2" / "out").is_file()
    assert api.results(pipeline, "t[K: 2]").column("score").to_pylist() == [2]


def test_runs_diff_and_a_reduction_folder(pipeline: api.Pipeline, tmp_path: Path) -> None:
    _run(api.plan(pipeline, ["t"]))
    _run(api.plan(pipeline, ["total"]))
    recorded = api.runs(pipeline)
    assert len(recorded) == 2 and all(r.summary is not None for r in recorded)
    found = api.diff(pipeline)
    assert (found.a.name, found.b.name) == (recorded[0].name, recorded[1].name)
    assert {api.describe_job_id(c.job_id) for c in found.changes} >= {"total", "t[K: 2]"}
    with pytest.raises(UsageError, match="no recorded run `nope`"):
        api.diff(pipeline, ["nope"])
    folder = tmp_path / "out" / "total" / "default" / "s"
    table = api.collect_folder(folder)
    assert sorted(zip(table.column("K").to_pylist(), table.column("score").to_pylist())) == [
        ("1", 1), ("2", 2), ("3", 3)]


def _readme_example() -> tuple[str, str]:
    """The pipeline and the Python code of the README's "Python API" section, as written there."""
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    section = readme[readme.index("## Python API\n"):]
    pipeline = section.split("```\n", 2)[1]
    code = section[section.index("```python\n") + len("```python\n"):]
    return pipeline, code[:code.index("```")]


def test_the_readme_example_runs_and_the_cli_prints_the_same_table(tmp_path: Path) -> None:
    pipeline, code = _readme_example()
    (tmp_path / "p.hm").write_text(pipeline)
    example = code + textwrap.dedent("""\
        assert report.exit_code == api.ExitCode.OK, report.failures
        assert table.column("score").to_pylist() == [1, 2, 3], table
        api.write_table(api.results(pipeline, "t[K: *]"), "api.csv")
        print(table.num_rows)
        """)
    done = subprocess.run([sys.executable, "-c", example], cwd=tmp_path, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0 and done.stdout.strip() == "3", done.stderr
    assert "PENDING" in (tmp_path / "api.csv").read_text()   # the example's `invalidate` at work
    cli = subprocess.run([sys.executable, "-m", "hypermetric", "results", "p.hm", "t[K: *]", "--format", "csv"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert cli.returncode == 0, cli.stderr
    assert cli.stdout == (tmp_path / "api.csv").read_text()


def test_every_public_name_resolves_and_importing_the_api_is_light() -> None:
    code = ("import sys; from hypermetric import api\n"
            "heavy = sorted(m for m in ('ray', 'pyarrow', 'lark', 'hypermetric.semantics') if m in sys.modules)\n"
            "missing = [n for n in api.__all__ if getattr(api, n, None) is None]\n"
            "print(heavy, missing, 'ray' in sys.modules or 'pyarrow' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split("\n")[0] == "[] [] False"
