"""A job directory the runner made itself is not listed before the job is prepared: what another runner put
there between that `mkdir` and the lock is still found (a finished job is not run twice, an unfinished one is
emptied), and what a runner killed half-way through the record leaves never looks done."""

from __future__ import annotations

import json
import os

from jobs import make_job, read

from hypermetric.execution import protocol
from hypermetric.execution.hooks import JobHooks
from hypermetric.execution.protocol import JobOptions, execute_job
from hypermetric.store.status import JobStatus, is_complete, read_exitcode


def _record_parts(job, code: int) -> tuple[bytes, bytes]:
    """The bytes of `job.json` and `exitcode` as the protocol writes them for exit code `code`."""
    os.makedirs(job.workdir, exist_ok=True)
    protocol._record(job, JobOptions(), code, 1, 0.0, 0.0)
    with open(os.path.join(job.workdir, "job.json"), "rb") as f:
        record = f.read()
    with open(os.path.join(job.workdir, "exitcode"), "rb") as f:
        return record, f.read()


def test_every_moment_of_an_interrupted_record_leaves_the_job_not_done(tmp_path) -> None:
    """Whatever prefix of the two writes a killed runner got to disk, the job is not done, and the next run
    runs it (once) instead of taking it as complete."""
    done = make_job(tmp_path, "ref", 'touch "$o"')
    record, exitcode = _record_parts(done, 0)
    cuts = [(record[:n], None) for n in (0, 1, len(record) // 2, len(record))] + [(record, b"")]
    for i, (head, code) in enumerate(cuts):
        job = make_job(tmp_path, f"t{i}", 'echo ran >> runs; touch "$o"')
        os.makedirs(job.workdir)
        open(os.path.join(job.workdir, "o"), "w").close()  # the outputs were made before the record
        with open(os.path.join(job.workdir, "job.json"), "wb") as f:
            f.write(head)
        if code is not None:
            with open(os.path.join(job.workdir, "exitcode"), "wb") as f:
                f.write(code)
        assert read_exitcode(job.workdir) != 0 and not is_complete(job)
        assert execute_job(job).status is JobStatus.SUCCESS
        assert read(os.path.join(job.workdir, "runs")) == "ran\n"
        assert read(os.path.join(job.workdir, "exitcode")) == "0"
    assert exitcode == b"0"


def test_files_the_script_made_under_the_record_names_are_replaced(tmp_path) -> None:
    job = make_job(tmp_path, "t", 'echo 0 > exitcode; printf "%02000d" 7 > job.json; touch "$o"; exit 3')
    assert execute_job(job).status is JobStatus.FAILED
    assert read(os.path.join(job.workdir, "exitcode")) == "3"
    assert json.loads(read(os.path.join(job.workdir, "job.json")))["exit_code"] == 3


def _another_runner_between_mkdir_and_lock(monkeypatch, job, script: str) -> None:
    """Make `execute_job` find, once it holds the lock of the directory it made, what another runner left
    there meanwhile: that runner's `script` (and whatever else `script` says)."""
    acquire = protocol.store_lock.acquire

    def acquire_after_the_other(path, **kwargs):
        if os.path.dirname(path) == job.workdir and not os.path.exists(os.path.join(job.workdir, "script")):
            with open(os.path.join(job.workdir, "script"), "w") as f:
                f.write("the other runner's\n")
            exec(script, {"workdir": job.workdir, "os": os})
        return acquire(path, **kwargs)

    monkeypatch.setattr(protocol.store_lock, "acquire", acquire_after_the_other)


def test_a_job_another_runner_finished_in_a_directory_this_one_made_is_complete(tmp_path, monkeypatch) -> None:
    job = make_job(tmp_path, "t", 'echo ran >> ../runs; touch "$o"')
    finish = "open(os.path.join(workdir, 'o'), 'w').close(); open(os.path.join(workdir, 'exitcode'), 'w').write('0')"
    _another_runner_between_mkdir_and_lock(monkeypatch, job, finish)
    assert execute_job(job).status is JobStatus.COMPLETE
    assert not os.path.exists(tmp_path / "t" / "runs")  # never run twice
    assert read(os.path.join(job.workdir, "script")) == "the other runner's\n"


def test_what_another_runner_left_unfinished_in_a_directory_this_one_made_is_emptied(tmp_path,
                                                                                   monkeypatch) -> None:
    job = make_job(tmp_path, "t", 'ls -A > ../listing; touch "$o"')
    _another_runner_between_mkdir_and_lock(monkeypatch, job, "open(os.path.join(workdir, 'junk'), 'w').close()")
    assert execute_job(job, hooks=JobHooks(on_spawn=lambda proc: None)).status is JobStatus.SUCCESS
    assert read(tmp_path / "t" / "listing").split() == [".lock", "args", "script", "stderr", "stdout"]
    assert read(os.path.join(job.workdir, "script")) == 'ls -A > ../listing; touch "$o"'
