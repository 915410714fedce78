"""The job protocol on real bash jobs in temporary directories: status, files, variables and decorators."""

from __future__ import annotations

import json
import os

from jobs import consume, make_job, read, reduce_over

from hypermetric.execution.protocol import JobOptions, execute_job
from hypermetric.plan.job import DecoratorLayer
from hypermetric.store.status import JobStatus, is_complete


def test_default_case_job_writes_its_files(tmp_path) -> None:
    job = make_job(tmp_path, "t", 'echo hello > "$o"')
    outcome = execute_job(job)
    assert outcome.status is JobStatus.SUCCESS and outcome.exit_code == 0
    assert job.workdir == os.path.join(tmp_path, "t", "default")
    expected = ["args", "exitcode", "job.json", "o", "script", "stderr", "stdout"]
    assert sorted(os.listdir(job.workdir)) == expected
    assert read(os.path.join(job.workdir, "exitcode")) == "0"
    assert read(os.path.join(job.workdir, "o")) == "hello\n"
    assert read(os.path.join(job.workdir, "script")) == 'echo hello > "$o"'


def test_complete_job_is_skipped_and_not_rerun(tmp_path) -> None:
    job = make_job(tmp_path, "t", 'date +%s%N >> "$o"')
    execute_job(job)
    again = execute_job(job)
    assert again.status is JobStatus.COMPLETE and again.ok
    assert len(read(os.path.join(job.workdir, "o")).splitlines()) == 1


def test_exit_code_three_fails(tmp_path) -> None:
    job = make_job(tmp_path, "t", "echo oops >&2; exit 3")
    outcome = execute_job(job)
    assert outcome.status is JobStatus.FAILED and outcome.exit_code == 3
    assert outcome.reason == "exit code 3 ≠ 0"
    assert outcome.stderr_tail == ("oops",)
    assert read(os.path.join(job.workdir, "exitcode")) == "3"


def test_missing_output_fails_and_reruns(tmp_path) -> None:
    job = make_job(tmp_path, "t", 'echo run >> ../runs; [ -f ../ok ] && touch "$o"; true')
    outcome = execute_job(job)
    assert outcome.status is JobStatus.FAILED
    assert outcome.reason == 'output {o = "o"@local} missing'
    assert read(os.path.join(job.workdir, "exitcode")) == "0" and not is_complete(job)
    open(os.path.join(tmp_path, "t", "ok"), "w").close()
    assert execute_job(job).status is JobStatus.SUCCESS
    assert read(os.path.join(tmp_path, "t", "runs")) == "run\nrun\n"


def test_bash_e_stops_at_the_first_failure(tmp_path) -> None:
    job = make_job(tmp_path, "t", 'false; touch "$o"')
    outcome = execute_job(job)
    assert outcome.status is JobStatus.FAILED and outcome.exit_code == 1
    assert not os.path.exists(os.path.join(job.workdir, "o"))


def test_rerun_empties_the_directory(tmp_path) -> None:
    job = make_job(tmp_path, "t", 'ls -A > ../listing; touch "$o"')
    os.makedirs(job.workdir)
    open(os.path.join(job.workdir, "junk"), "w").close()
    os.makedirs(os.path.join(job.workdir, "olddir"))
    open(os.path.join(job.workdir, "exitcode"), "w").write("1")
    assert execute_job(job).ok
    assert "junk" not in os.listdir(job.workdir) and "olddir" not in os.listdir(job.workdir)
    listing = read(os.path.join(tmp_path, "t", "listing")).split()
    assert listing == [".lock", "args", "script", "stderr", "stdout"]


def test_args_quote_single_quotes(tmp_path) -> None:
    job = make_job(tmp_path, "t", 'printf %s "$v" > "$o"', variables={"v": "it's"})
    execute_job(job)
    args = read(os.path.join(job.workdir, "args"))
    assert "v='it'\\''s'\n" in args and args.endswith("\n")
    lines = args.splitlines()
    assert lines == sorted(lines)
    assert read(os.path.join(job.workdir, "o")) == "it's"


def test_hypermake_job_variables(tmp_path) -> None:
    script = 'env | grep ^HYPERMAKE_JOB_ | sort > "$o"'
    job = make_job(tmp_path, "t", script, case=[("A", "y")])
    execute_job(job)
    first = dict(line.split("=", 1) for line in read(os.path.join(job.workdir, "o")).splitlines())
    assert first["HYPERMAKE_JOB_ID"] == "t?A=y"
    assert first["HYPERMAKE_JOB_CASE"] == "A: y"
    assert first["HYPERMAKE_JOB_CASE_JSON"] == '{"A":"y"}'
    assert first["HYPERMAKE_JOB_WD"] == job.workdir == os.path.join(tmp_path, "t", "A=y")
    os.unlink(os.path.join(job.workdir, "exitcode"))
    execute_job(job)
    second = dict(line.split("=", 1) for line in read(os.path.join(job.workdir, "o")).splitlines())
    assert first["HYPERMAKE_JOB_UUID"] != second["HYPERMAKE_JOB_UUID"]


def test_decorators_wrap_the_script(tmp_path) -> None:
    inner = DecoratorLayer("B", 'echo B-begin >> "$o"; . "$b_inner"; echo B-end >> "$o"', "b_inner")
    outer = DecoratorLayer("A", 'echo "A $greeting" >> "$o"; bash -e "$a_inner"', "a_inner",
                           (("greeting", "hi"),))
    task = 'echo "task $HYPERMAKE_JOB_WRAPPED_SCRIPTS" >> "$o"'
    job = make_job(tmp_path, "t", task, decorators=[inner, outer])
    assert execute_job(job).ok
    wd = job.workdir
    assert read(os.path.join(wd, "script.0")) == task
    assert read(os.path.join(wd, "script.1")) == inner.script
    assert read(os.path.join(wd, "script")) == outer.script
    assert read(os.path.join(wd, "o")).splitlines() == ["A hi", "B-begin", "task script.0 script.1", "B-end"]


def test_file_input_is_a_relative_symlink(tmp_path) -> None:
    up = make_job(tmp_path, "u", 'echo data > "$o"')
    execute_job(up)
    job = consume(tmp_path, "t", 'cat "$i" > "$o"; readlink i >> "$o"', up)
    assert execute_job(job).ok
    assert read(os.path.join(job.workdir, "o")) == "data\n../../u/default/o\n"


def test_reduction_is_a_folder_of_relative_symlinks(tmp_path) -> None:
    ups = [make_job(tmp_path, "u", f'echo {k} > "$o"', case=[("A", k)] if k != "x" else []) for k in "xyz"]
    for up in ups:
        execute_job(up)
    job = reduce_over(tmp_path, "r", 'cat "$d"/* > "$o"', ups, "A")
    assert execute_job(job).ok
    folder = os.path.join(job.workdir, "d")
    assert sorted(os.listdir(folder)) == ["A=y", "A=z", "default"]
    assert os.path.isfile(os.path.join(job.workdir, ".d.manifest.arrow"))
    assert os.readlink(os.path.join(folder, "A=y")) == "../../../u/A=y/o"
    assert read(os.path.join(job.workdir, "o")) == "y\nz\nx\n"


def test_output_lines_reach_the_callback_and_the_files(tmp_path) -> None:
    seen: list[tuple[str, str, str]] = []
    job = make_job(tmp_path, "t", 'echo one; echo two >&2; printf last; touch "$o"')
    execute_job(job, on_output=lambda j, stream, line: seen.append((j.id, stream, line)))
    assert sorted(seen) == [("t", "stderr", "two"), ("t", "stdout", "last"), ("t", "stdout", "one")]
    assert read(os.path.join(job.workdir, "stdout")) == "one\nlast"


def test_job_json_records_the_run(tmp_path) -> None:
    job = make_job(tmp_path, "t", 'touch "$o"', case=[("A", "y")])
    execute_job(job, JobOptions(node="n1"), attempt=2)
    info = json.loads(read(os.path.join(job.workdir, "job.json")))
    assert info["case"] == {"A": "y"} and info["attempt"] == 2 and info["node"] == "n1"
    assert info["exit_code"] == 0 and info["duration_s"] >= 0 and info["host"]
    assert info["start"] <= info["end"]


def test_custom_shell_and_missing_shell(tmp_path) -> None:
    job = make_job(tmp_path, "t", 'import os; open(os.environ["o"], "w").write("py")')
    assert execute_job(job, JobOptions(shell=("python3",))).ok
    other = make_job(tmp_path, "u", "true")
    outcome = execute_job(other, JobOptions(shell=("/nonexistent/shell",)))
    assert outcome.exit_code == 127 and "cannot start" in read(os.path.join(other.workdir, "stderr"))


def test_stacked_decorators_with_the_same_parameter(tmp_path) -> None:
    inner = DecoratorLayer("tagged", 'echo "[$tag]"; . "$inner"', "inner", (("tag", "one"),))
    outer = DecoratorLayer("shout", 'bash -e "$inner" | tr a-z A-Z', "inner")
    job = make_job(tmp_path, "t", 'echo "inner $tag"', outputs=(), decorators=[inner, outer])
    assert execute_job(job).ok
    assert read(os.path.join(job.workdir, "stdout")) == "[ONE]\nINNER ONE\n"
