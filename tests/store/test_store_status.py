"""Job status from disk: exit code and outputs, failure reasons, and the speed of the cached check."""

from __future__ import annotations

import os
import time

from jobs import make_job

from hypermetric.store.status import JobStatus, failure_reason, is_complete, job_status, read_exitcode


def _write(path, text: str) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def test_symbols_and_styles() -> None:
    assert [(s.label, s.symbol) for s in JobStatus] == [
        ("PENDING", "•"), ("QUEUED", "•"), ("WAITING", ">"), ("RUNNING", ">"), ("COMPLETE", "•"),
        ("SUCCESS", "•"), ("FAILED", "×"), ("SKIPPED", "-"), ("OUTDATED", "~")]
    assert JobStatus.FAILED.label == "FAILED" and str(JobStatus.SUCCESS) == "SUCCESS"
    assert JobStatus.SUCCESS.style == "job.ok"


def test_no_directory_is_pending_without_reason(tmp_path) -> None:
    job = make_job(tmp_path, "t")
    assert job_status(job) is JobStatus.PENDING
    assert failure_reason(job) is None and not is_complete(job)
    assert not os.path.exists(job.workdir)


def test_exit_zero_with_outputs_is_complete(tmp_path) -> None:
    job = make_job(tmp_path, "t", outputs=["o", ("p", "sub/p.txt")])
    _write(os.path.join(job.workdir, "exitcode"), "0")
    _write(os.path.join(job.workdir, "o"), "")
    assert job_status(job) is JobStatus.FAILED
    assert failure_reason(job) == 'output {p = "sub/p.txt"@local} missing'
    _write(os.path.join(job.workdir, "sub", "p.txt"), "")
    assert is_complete(job) and job_status(job) is JobStatus.COMPLETE
    assert failure_reason(job) is None


def test_plural_reason_lists_every_missing_output(tmp_path) -> None:
    job = make_job(tmp_path, "t", outputs=[("a", "x"), ("b", "y")])
    _write(os.path.join(job.workdir, "exitcode"), "0")
    assert failure_reason(job) == 'outputs {a = "x"@local, b = "y"@local} missing'


def test_nonzero_and_garbled_exit_codes(tmp_path) -> None:
    job = make_job(tmp_path, "t")
    _write(os.path.join(job.workdir, "o"), "")
    _write(os.path.join(job.workdir, "exitcode"), "3")
    assert failure_reason(job) == "exit code 3 ≠ 0" and job_status(job) is JobStatus.FAILED
    _write(os.path.join(job.workdir, "exitcode"), "zero")
    assert read_exitcode(job.workdir) == -1 and not is_complete(job)


def test_directory_without_exitcode_is_pending(tmp_path) -> None:
    job = make_job(tmp_path, "t")
    _write(os.path.join(job.workdir, "o"), "")
    assert job_status(job) is JobStatus.PENDING


def test_an_empty_exitcode_is_no_finished_run(tmp_path) -> None:
    """A runner makes `exitcode` and then writes the code into it; in between (or when it was killed there)
    the job is not done and has not failed either."""
    job = make_job(tmp_path, "t")
    _write(os.path.join(job.workdir, "o"), "")
    _write(os.path.join(job.workdir, "exitcode"), "")
    assert read_exitcode(job.workdir) is None and not is_complete(job)
    assert job_status(job) is JobStatus.PENDING and failure_reason(job) is None


def test_dangling_symlink_output_is_missing(tmp_path) -> None:
    job = make_job(tmp_path, "t")
    _write(os.path.join(job.workdir, "exitcode"), "0")
    os.symlink("nowhere", os.path.join(job.workdir, "o"))
    assert not is_complete(job)


def test_thousand_cached_jobs_check_fast(tmp_path) -> None:
    template = make_job(tmp_path, "t")
    _write(os.path.join(template.workdir, "exitcode"), "0")
    for i in range(50):
        _write(os.path.join(template.workdir, f"o{i}"), "")
    jobs = [make_job(tmp_path, "t", outputs=[f"o{i % 50}"]) for i in range(1000)]
    start = time.process_time()  # CPU time, not wall time, so that a busy machine does not fail the test
    assert all(is_complete(job) for job in jobs)
    assert time.process_time() - start < 0.1
