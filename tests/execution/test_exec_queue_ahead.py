"""Jobs handed to the local runner ahead of a free slot: a worker whose job ends begins the next one itself.

The scheduler may hand the backend up to `ahead` ordinary jobs beyond its slots; they count as running. Checked
here by what each `take` returns and by what ran on disk, never by timing: the queued jobs run once each,
show as running only once begun, and after a failure (fail-stop), an interrupt or the run's end none of those
not begun runs, leaves a folder, or counts as an attempt.
"""

from __future__ import annotations

import os

import pytest
from jobs import make_graph, make_job, read

from hypermetric.execution import events as ev
from hypermetric.execution.engine import RunOptions, run_graph
from hypermetric.execution.protocol import JobOutcome
from hypermetric.execution.scheduler import Scheduler
from hypermetric.plan.job import Resources
from hypermetric.record import replace
from hypermetric.store.status import JobStatus

ROOT = "/nonexistent-root"


def _never(job) -> bool:
    return False


def _ids(started) -> list[str]:
    return [job.id for job, _ in started]


def test_ordinary_jobs_are_handed_over_ahead_of_a_free_slot() -> None:
    jobs = [make_job(ROOT, f"t{i}") for i in range(7)]
    sched = Scheduler(make_graph(ROOT, *jobs), slots=2, complete=_never, ahead=2)
    assert _ids(sched.take()) == ["t0", "t1", "t2", "t3"]
    assert sched.take() == []
    sched.finish(JobOutcome("t0", JobStatus.SUCCESS))
    assert _ids(sched.take()) == ["t4"]
    assert [job.id for job in sched.waiting()] == ["t5", "t6"]


def test_a_larger_job_is_never_queued_and_nothing_is_queued_beside_one() -> None:
    big = make_job(ROOT, "t2", resources=Resources(cpus=2))
    gpu = make_job(ROOT, "t5", resources=Resources(gpus=1))
    jobs = [make_job(ROOT, "t0"), make_job(ROOT, "t1"), big] + [make_job(ROOT, f"t{i}") for i in (3, 4)] + [gpu]
    sched = Scheduler(make_graph(ROOT, *jobs), slots=2, complete=_never, gpus=1, ahead=2)
    assert _ids(sched.take()) == ["t0", "t1"]  # the larger job is next: it waits for both slots
    for job_id in ("t0", "t1"):
        sched.finish(JobOutcome(job_id, JobStatus.SUCCESS))
    assert _ids(sched.take()) == ["t2"]  # alone, and nothing queued beside it
    sched.finish(JobOutcome("t2", JobStatus.SUCCESS))
    assert _ids(sched.take()) == ["t3", "t4"]  # the GPU job is next in line: the queue stops before it
    sched.finish(JobOutcome("t3", JobStatus.SUCCESS))
    assert _ids(sched.take()) == ["t5"]
    assert sched.take() == []  # a GPU job is in flight: nothing goes ahead


def test_a_withdrawn_job_is_no_attempt_and_waits_again() -> None:
    jobs = [make_job(ROOT, f"t{i}") for i in range(3)]
    sched = Scheduler(make_graph(ROOT, *jobs), slots=1, complete=_never, ahead=1)
    assert _ids(sched.take()) == ["t0", "t1"]
    sched.finish(JobOutcome("t0", JobStatus.FAILED, reason="exit code 1 ≠ 0"))  # fail-stop
    step = sched.finish(JobOutcome("t1", JobStatus.PENDING, withdrawn=True))
    assert step.retry is False and step.skipped == []
    assert sched.state["t1"] is JobStatus.PENDING and sched.attempts["t1"] == 0 and sched.done


def _run(root, graph_jobs, monkeypatch, **options):
    """Run `jobs` through the engine and the local backend; what each `take` started, and the events."""
    taken: list[list[str]] = []
    original = Scheduler.take

    def take(self):
        started = original(self)
        if started:
            taken.append(_ids(started))
        return started

    monkeypatch.setattr(Scheduler, "take", take)
    events: list[ev.Event] = []
    report = run_graph(make_graph(root, *graph_jobs), RunOptions(**options), on_event=events.append)
    return report, taken, events


def _started(events) -> list[str]:
    return [e.job.id for e in events if isinstance(e, ev.JobStarted)]


def _most_shown_running(events) -> int:
    """The most jobs the events ever showed started and not yet ended."""
    running, most = set(), 0
    for e in events:
        if isinstance(e, ev.JobStarted):
            running.add(e.job.id)
            most = max(most, len(running))
        elif isinstance(e, ev.JobSucceeded):
            running.discard(e.job.id)
    return most


@pytest.mark.parametrize("slots", [1, 2])
def test_the_next_jobs_are_handed_over_while_every_slot_is_busy(tmp_path, monkeypatch, slots) -> None:
    jobs = [make_job(tmp_path, "t", f'echo {i} > "$o"; echo {i} >> ../../log', case=[("I", str(i))])
            for i in range(8)]
    report, taken, events = _run(tmp_path, jobs, monkeypatch, jobs=slots)
    assert report.exit_code == 0 and report.count(JobStatus.SUCCESS) == len(jobs)
    assert len(taken[0]) == 2 * slots  # as many again as there are slots, before any job has ended
    assert sorted(read(os.path.join(tmp_path, "log")).split(), key=int) == [str(i) for i in range(8)]
    assert sorted(_started(events)) == sorted(job.id for job in jobs)  # each shown as running once
    # a worker begins its next job as soon as it ends one, but the next is shown running only after the end
    assert _most_shown_running(events) == slots
    for job in jobs:
        done = next(i for i, e in enumerate(events) if isinstance(e, ev.JobSucceeded) and e.job.id == job.id)
        began = next(i for i, e in enumerate(events) if isinstance(e, ev.JobStarted) and e.job.id == job.id)
        assert began < done and report.results[job.id].attempts == 1


def test_after_a_failure_no_job_queued_ahead_begins(tmp_path, monkeypatch) -> None:
    """Fail-stop: the worker whose job failed holds its next job back until the run has stopped, then gives
    it back; it never begins, makes no folder and is no attempt."""
    jobs = [make_job(tmp_path, "t", "exit 3" if i == 0 else f'echo {i} > "$o"; echo {i} >> ../../log',
                     case=[("I", str(i))]) for i in range(5)]
    report, taken, events = _run(tmp_path, jobs, monkeypatch, jobs=1)
    assert report.exit_code != 0 and len(taken[0]) == 2
    assert report.results[jobs[0].id].status is JobStatus.FAILED
    assert not os.path.exists(os.path.join(tmp_path, "log"))
    for job in jobs[1:]:
        assert report.results[job.id].status is JobStatus.PENDING and report.results[job.id].attempts == 0
        assert not os.path.exists(job.workdir) and job.id not in _started(events)
    assert [n for n in os.listdir(os.path.dirname(jobs[0].workdir)) if n.startswith(".")] == []


def test_with_keep_going_the_jobs_queued_behind_a_failure_run(tmp_path, monkeypatch) -> None:
    jobs = [make_job(tmp_path, "t", "exit 3" if i == 0 else f'echo {i} > "$o"; echo {i} >> ../../log',
                     case=[("I", str(i))]) for i in range(5)]
    report, _, _ = _run(tmp_path, jobs, monkeypatch, jobs=1, keep_going=True)
    assert report.results[jobs[0].id].status is JobStatus.FAILED
    assert sorted(read(os.path.join(tmp_path, "log")).split()) == ["1", "2", "3", "4"]
    assert all(report.results[job.id].attempts == 1 for job in jobs)


def test_a_retried_job_and_the_jobs_queued_behind_it_each_run_once(tmp_path, monkeypatch) -> None:
    flaky = f'if [ ! -e {tmp_path}/failed ]; then touch {tmp_path}/failed; exit 1; fi; echo 0 > "$o"'
    jobs = [make_job(tmp_path, "t", flaky if i == 0 else f'echo {i} > "$o"; echo {i} >> ../../log',
                     case=[("I", str(i))]) for i in range(4)]
    report, _, _ = _run(tmp_path, jobs, monkeypatch, jobs=1, retries=1)
    assert report.exit_code == 0 and report.results[jobs[0].id].attempts == 2
    assert sorted(read(os.path.join(tmp_path, "log")).split()) == ["1", "2", "3"]


def test_a_services_stop_still_runs_after_a_failure_stopped_the_run(tmp_path, monkeypatch) -> None:
    """The stop job of a service is handed over after the run stopped, while the failure that stopped it
    still holds the workers back: it is begun, not withdrawn (nor waited for forever)."""
    start = make_job(tmp_path, "svc.start", f'touch {tmp_path}/up; echo > "$o"')
    users = [make_job(tmp_path, "t", "exit 3" if i == 0 else f'echo {i} > "$o"; echo {i} >> ../../log',
                      case=[("I", str(i))], deps=[start.id]) for i in range(4)]
    stop = replace(make_job(tmp_path, "svc.stop", f'rm {tmp_path}/up; echo > "$o"', deps=[start.id],
                            ephemeral=True), after=tuple(job.id for job in users))
    report, _, _ = _run(tmp_path, [start, *users, stop], monkeypatch, jobs=1)
    assert report.exit_code != 0 and report.results[stop.id].status is JobStatus.SUCCESS
    assert not os.path.exists(os.path.join(tmp_path, "up")) and not os.path.exists(os.path.join(tmp_path, "log"))
    assert [report.results[job.id].attempts for job in users] == [1, 0, 0, 0]
