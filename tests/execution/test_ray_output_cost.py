"""What the Ray driver's output tail costs per job when nobody takes the lines (a silent run that still shows
when each job starts): one `stat`, and none at the job's end when its outcome says whether it ran."""

from __future__ import annotations

import os

import pytest
from jobs import make_job

from hypermetric.execution import ray_ends, ray_output
from hypermetric.execution.protocol import JobOutcome
from hypermetric.execution.ray_output import OutputTail
from hypermetric.store.status import JobStatus


@pytest.fixture
def stats(monkeypatch) -> list[str]:
    seen: list[str] = []
    real = os.stat

    def counting(path, *args, **kwargs):
        if os.path.basename(path) in ("stdout", "stderr"):
            seen.append(os.fspath(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(ray_output.os, "stat", counting)
    return seen


def test_a_silent_job_costs_one_stat_and_its_outcome_says_whether_it_started(tmp_path, stats) -> None:
    ran, found, lost = (make_job(tmp_path, name) for name in ("ran", "found", "lost"))
    for job in (ran, found, lost):
        os.makedirs(job.workdir)
    started: list[str] = []
    tail = OutputTail(None, interval=3600.0, on_start=lambda job, attempt: started.append(job.id))
    for job in (ran, found, lost):
        tail.watch(job)
    assert len(stats) == 3   # `stdout` only: `stderr` matters only to someone taking lines
    with open(os.path.join(ran.workdir, "stdout"), "w"):
        pass
    tail.finish(ran.id, ran=True)
    tail.finish(found.id, ran=False)
    assert len(stats) == 3   # the outcomes told: no file looked at
    with open(os.path.join(lost.workdir, "stdout"), "w"):
        pass
    tail.finish(lost.id, ran=None)   # no certain answer: the file tells, as before
    tail.close()
    assert len(stats) == 4
    assert started == [ran.id, lost.id]


@pytest.mark.parametrize(("status", "code", "ran"), [
    (JobStatus.SUCCESS, 0, True),
    (JobStatus.FAILED, 1, True),
    (JobStatus.COMPLETE, 0, False),
    (JobStatus.FAILED, None, None),     # lost with its worker, refused, or failed before the script
    (JobStatus.PENDING, 137, None),     # interrupted
    (JobStatus.PENDING, None, None),
])
def test_an_outcome_tells_whether_its_script_ran_only_when_certain(status, code, ran) -> None:
    assert ray_ends.ran(JobOutcome("j", status, 1, code)) is ran
