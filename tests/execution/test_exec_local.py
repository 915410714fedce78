"""`LocalBackend`: GPU assignment, cancellation, and the report's exit codes."""

from __future__ import annotations

import os

from jobs import make_graph, make_job, read
from support.waiting import BOUND, rendezvous, wait_until

from hypermetric.execution.engine import RunOptions, run_graph
from hypermetric.execution.gpu_devices import detect_gpus
from hypermetric.execution.local import LocalBackend
from hypermetric.execution.report import JobResult, RunReport
from hypermetric.plan.job import Resources
from hypermetric.store.status import JobStatus


def test_gpu_count_override(monkeypatch) -> None:
    monkeypatch.setenv("HYPERMETRIC_GPUS", "3")
    assert detect_gpus() == 3
    assert LocalBackend().gpu_count() == 3


def test_gpu_jobs_get_distinct_devices(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("HYPERMETRIC_GPUS", "2")
    script = 'echo "${CUDA_VISIBLE_DEVICES-unset}" > "$o"'
    together = rendezvous(tmp_path / "started", "$JOB", 2)  # the GPU jobs hold their devices at once
    gpu = [make_job(tmp_path, n, together + script, resources=Resources(gpus=1), variables={"JOB": n})
           for n in "ab"]
    cpu = make_job(tmp_path, "c", script)
    report = run_graph(make_graph(tmp_path, *gpu, cpu), RunOptions(jobs=3, silent=True))
    assert report.exit_code == 0
    seen = {j.id: read(os.path.join(j.workdir, "o")).strip() for j in (*gpu, cpu)}
    assert sorted([seen["a"], seen["b"]]) == ["0", "1"]
    assert seen["c"] == os.environ.get("CUDA_VISIBLE_DEVICES", "unset")


def test_cancel_all_interrupts_running_jobs(tmp_path) -> None:
    job = make_job(tmp_path, "t", 'echo started > ../flag; sleep 30; touch "$o"')
    backend = LocalBackend(1, grace=1)
    backend.start(job, 1)
    flag = os.path.join(tmp_path, "t", "flag")
    wait_until(lambda: os.path.exists(flag), what="the job to start")
    backend.cancel_all()
    (outcome,) = backend.wait_any(BOUND)
    backend.close()
    assert outcome.interrupted and outcome.status is JobStatus.PENDING
    assert not os.path.exists(os.path.join(job.workdir, "exitcode"))
    assert not os.path.exists(os.path.join(job.workdir, ".lock"))


def test_wait_any_times_out_empty() -> None:
    backend = LocalBackend(1)
    assert backend.wait_any(0.01) == []
    backend.close()


def test_report_exit_codes() -> None:
    report = RunReport({"a": JobResult("a", "a[default]", "/w", JobStatus.SUCCESS)})
    assert report.exit_code == 0
    report.results["b"] = JobResult("b", "b[default]", "/w", JobStatus.FAILED)
    assert report.exit_code == 1 and [r.job_id for r in report.failures] == ["b"]
    report.interrupted = True
    assert report.exit_code == 130
    assert report.counts() == {JobStatus.SUCCESS: 1, JobStatus.FAILED: 1}
    assert report.results["b"].stderr_path == "/w/stderr"
