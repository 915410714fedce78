"""The run path of a large graph that is mostly done: the jobs found done are counted, never built, given no
result or event each, and cost (almost) no memory per job (tracemalloc, not wall-clock time, so a busy
machine cannot fail these)."""

from __future__ import annotations

import os
import tracemalloc

from semantics.helpers import load

from hypermetric import api
from hypermetric.execution import engine, events
from hypermetric.execution.engine import RunOptions, run_graph
from hypermetric.execution.protocol import JobOutcome
from hypermetric.store.history import list_runs
from hypermetric.store.staleness import prepare_run
from hypermetric.store.status import JobStatus

PENDING = 10


def _pipeline(cases: int) -> str:
    """`cases` cases of `t` (A x B), and a reduction `r` over A for each of the 10 keys of B."""
    keys = " ".join(f"k{i:05d}" for i in range(cases // 10))
    return f"""\
a = {{A: {keys}}}
b = {{B: 0 1 2 3 4 5 6 7 8 9}}

task t(a=$, b=$) -> o:
  echo $a $b > $o

task r(x=$t[A: *].o) -> o:
  cat $x/* > $o
"""


def _mostly_done(tmp_path, cases: int):
    """The planned graph of the 10 `r` jobs, all done but the last `PENDING` cases of `t` in its order."""
    pipeline = load(tmp_path, _pipeline(cases))
    api.touch(pipeline, ["t[A: *, B: *]", "r[B: *]"])
    graph = api.plan(pipeline, ["r[B: *]"])
    for job_id in [i for i in graph.order() if i.startswith("t")][-PENDING:]:
        os.remove(os.path.join(graph.workdir(job_id), "exitcode"))
    return graph


class _Instant:
    """A backend whose jobs succeed as soon as they start, touching no file: what is measured is the run
    path (scheduler, report, events, run record), not the jobs."""

    def __init__(self) -> None:
        self.started: list[str] = []

    def gpu_count(self) -> int:
        return 0

    def start(self, job, attempt: int) -> object:
        self.started.append(job.id)
        return job.id

    def wait_any(self, timeout: float | None = None) -> list[JobOutcome]:
        done, self.started = self.started, []
        return [JobOutcome(job_id, JobStatus.SUCCESS) for job_id in done]

    def cancel_all(self) -> None:
        pass

    def close(self) -> None:
        pass


def _run_after_status_pass(graph, monkeypatch, backend="local", ignore_changes=False):
    """Run `graph` with its status pass done beforehand, so that what is measured is the run path alone:
    (report, events, jobs built by the run, tracemalloc's peak)."""
    prepared = prepare_run(graph, ignore_changes=ignore_changes)
    monkeypatch.setattr(engine, "prepare_run", lambda g, **kw: prepared)
    seen: list[events.Event] = []
    built = graph.jobs.built_count()
    tracemalloc.start()
    try:
        report = run_graph(graph, RunOptions(jobs=2, silent=True, backend=backend), on_event=seen.append)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert report.exit_code == 0, report.failures
    return report, seen, graph.jobs.built_count() - built, peak


def test_a_run_builds_no_job_and_sends_no_event_for_the_jobs_found_done(tmp_path, monkeypatch) -> None:
    graph = _mostly_done(tmp_path, 2000)
    report, seen, built, _ = _run_after_status_pass(graph, monkeypatch)
    ran = report.count(JobStatus.SUCCESS)
    assert built == 0  # the jobs to run were built by the status pass; no done one is built after it
    assert PENDING <= ran < 2 * PENDING and report.counts() == {JobStatus.COMPLETE: 2010 - ran, JobStatus.SUCCESS: ran}
    assert len(report.results) == ran and report.executed == ran
    assert [(e.total, e.complete) for e in seen if isinstance(e, events.RunStarted)] == [(ran, 2010 - ran)]
    assert not [e for e in seen if isinstance(e, events.JobSkipped)]
    (run,) = list_runs(graph.root)
    assert run.summary["counts"] == {"COMPLETE": 2010 - ran, "SUCCESS": ran}
    assert len(run.summary["jobs"]) == ran and run.job_count == 2010
    assert len(run.jobs) == 2010 and run.jobs[graph.order()[0]] == {"status": "COMPLETE"}  # touched: unsigned


def test_memory_of_a_run_hardly_grows_with_the_jobs_found_done(tmp_path, monkeypatch) -> None:
    # With --ignore-changes the reductions stay done and only `PENDING` cases of `t` run at each size: a
    # reduction that runs records what it read, which grows with its inputs, and is not measured here.
    _run_after_status_pass(_mostly_done(tmp_path / "warm-up", 200), monkeypatch, _Instant(), True)  # imports
    small, large = 1200, 4200
    peaks = []
    for cases in (small, large):
        graph = _mostly_done(tmp_path / str(cases), cases)
        report, *_, peak = _run_after_status_pass(graph, monkeypatch, _Instant(), True)
        assert report.count(JobStatus.SUCCESS) == PENDING and report.count(JobStatus.COMPLETE) == cases
        peaks.append(peak)
    per_job = (peaks[1] - peaks[0]) / (large - small)
    # Measured on the 2-vCPU VM, 2026-12-03 (tracemalloc's peak of the run path, status pass excluded): about
    # 1,900 bytes per done job when the run built every job and gave it a result and an event; 13 since, at
    # these sizes (2 from 2,000 to 20,000: what is left is buffers of a bounded size).
    assert per_job < 50, f"{per_job:.0f} bytes per done job"
