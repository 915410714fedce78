"""`run_graph` end to end on real bash jobs: slots, failures, retries, ephemeral jobs, records, events."""

from __future__ import annotations

import json
import os

import pytest
from jobs import consume, make_graph, make_job, read
from support.waiting import rendezvous

from hypermetric.errors import UsageError
from hypermetric.execution import events as ev
from hypermetric.execution.engine import RunOptions, run_graph
from hypermetric.execution.protocol import execute_job
from hypermetric.store import mutations
from hypermetric.store.runs import read_run_records
from hypermetric.store.status import JobStatus, is_complete


def _run(graph, **options):
    seen: list = []
    report = run_graph(graph, RunOptions(**options), seen.append)
    return report, seen


def _names(seen, kind) -> list[str]:
    return [e.job.id for e in seen if isinstance(e, kind)]


def test_two_slots_run_two_jobs_at_once(tmp_path) -> None:
    """Each job waits until the other has started: they can only succeed by running at the same time."""
    together = rendezvous(tmp_path / "started", "$JOB", 2)
    graph = make_graph(tmp_path, make_job(tmp_path, "a", together + 'touch "$o"', variables={"JOB": "a"}),
                       make_job(tmp_path, "b", together + 'touch "$o"', variables={"JOB": "b"}))
    report, _ = _run(graph, jobs=2, silent=True)
    assert report.exit_code == 0 and report.count(JobStatus.SUCCESS) == 2


def test_one_slot_runs_one_job_at_a_time(tmp_path) -> None:
    """With one slot no job ever finds the other inside (a directory only one can create), though the second
    is handed to the backend ahead and begun by the worker the moment the first ends, maybe before the run's
    loop has reported that end (so only each job's own events are in order)."""
    alone = f'mkdir {tmp_path}/inside; touch "$o"; rmdir {tmp_path}/inside'
    graph = make_graph(tmp_path, make_job(tmp_path, "a", alone), make_job(tmp_path, "b", alone))
    report, seen = _run(graph, jobs=1, silent=True)
    assert report.exit_code == 0 and report.count(JobStatus.SUCCESS) == 2
    steps = [(type(e).__name__, e.job.id) for e in seen if isinstance(e, (ev.JobStarted, ev.JobSucceeded))]
    for job_id in ("a", "b"):
        assert [step for step in steps if step[1] == job_id] == [("JobStarted", job_id), ("JobSucceeded", job_id)]


def _failing_graph(tmp_path):
    a = make_job(tmp_path, "a", "exit 1")
    b = consume(tmp_path, "b", 'touch "$o"', a)
    c = make_job(tmp_path, "c", 'touch "$o"')
    return make_graph(tmp_path, a, b, c)


def test_fail_stop_leaves_the_rest_pending(tmp_path) -> None:
    report, seen = _run(_failing_graph(tmp_path))
    assert report.exit_code == 1
    assert {i: r.status for i, r in report.results.items()} == {
        "a": JobStatus.FAILED, "b": JobStatus.PENDING, "c": JobStatus.PENDING}
    assert _names(seen, ev.JobStarted) == ["a"]
    (failed,) = [e for e in seen if isinstance(e, ev.JobFailed)]
    assert failed.reason == "exit code 1 ≠ 0" and not failed.will_retry
    assert isinstance(seen[-1], ev.RunFinished)


def test_keep_going_skips_dependents(tmp_path) -> None:
    report, seen = _run(_failing_graph(tmp_path), keep_going=True)
    assert report.exit_code == 1
    assert report.results["b"].status is JobStatus.SKIPPED and report.results["c"].status is JobStatus.SUCCESS
    assert [(e.job.id, e.reason) for e in seen if isinstance(e, ev.JobSkipped)] == [("b", "upstream failed")]


def test_retries_record_the_attempt(tmp_path) -> None:
    job = make_job(tmp_path, "t", 'if [ -f ../flag ]; then touch "$o"; else touch ../flag; exit 2; fi')
    report, seen = _run(make_graph(tmp_path, job), retries=2)
    assert report.exit_code == 0 and report.results["t"].attempts == 2
    assert [e.will_retry for e in seen if isinstance(e, ev.JobFailed)] == [True]
    assert json.loads(read(os.path.join(job.workdir, "job.json")))["attempt"] == 2


def test_complete_jobs_are_skipped_silently(tmp_path) -> None:
    job = make_job(tmp_path, "t", 'touch "$o"')
    execute_job(job)
    report, seen = _run(make_graph(tmp_path, job))
    assert report.count(JobStatus.COMPLETE) == 1 and report.results == {} and report.executed == 0
    assert _names(seen, ev.JobStarted) == [] and _names(seen, ev.JobSkipped) == []
    assert [(e.total, e.complete) for e in seen if isinstance(e, ev.RunStarted)] == [(0, 1)]


def test_ephemeral_job_runs_when_needed_and_is_removed(tmp_path) -> None:
    e = make_job(tmp_path, "e", 'echo tmp > "$o"; echo e >> ../../log', ephemeral=True)
    t = consume(tmp_path, "t", 'cat "$i" > "$o"', e)
    graph = make_graph(tmp_path, e, t)
    report, _ = _run(graph)
    assert report.exit_code == 0 and read(os.path.join(t.workdir, "o")) == "tmp\n"
    assert not os.path.exists(e.workdir)
    _run(graph)
    assert read(os.path.join(tmp_path, "log")) == "e\n"
    mutations.invalidate([t])
    _run(graph)
    assert read(os.path.join(tmp_path, "log")) == "e\ne\n" and not os.path.exists(e.workdir)


def test_run_record_lists_the_graph_in_order(tmp_path) -> None:
    graph = _failing_graph(tmp_path)
    report, _ = _run(graph, keep_going=True)
    assert read_run_records(str(tmp_path)) == [["a", "b", "c"]]
    assert report.record and read(report.record) == "a\nb\nc"


def test_output_events_unless_silent(tmp_path) -> None:
    job = make_job(tmp_path, "t", 'echo hi; touch "$o"')
    _, seen = _run(make_graph(tmp_path, job))
    assert [(e.stream, e.line) for e in seen if isinstance(e, ev.JobOutput)] == [("stdout", "hi")]
    mutations.invalidate([job])
    _, quiet = _run(make_graph(tmp_path, job), silent=True)
    assert not [e for e in quiet if isinstance(e, ev.JobOutput)]
    assert read(os.path.join(job.workdir, "stdout")) == "hi\n"


def test_event_order_for_one_job(tmp_path) -> None:
    _, seen = _run(make_graph(tmp_path, make_job(tmp_path, "t", 'touch "$o"')), silent=True)
    assert [type(e).__name__ for e in seen] == ["RunStarted", "JobQueued", "JobStarted", "JobSucceeded",
                                                 "RunFinished"]
    assert seen[0].total == 1 and seen[0].complete == 0


def test_unknown_backend_is_a_usage_error(tmp_path) -> None:
    with pytest.raises(UsageError):
        run_graph(make_graph(tmp_path, make_job(tmp_path, "t")), RunOptions(backend="nope", record=False))


def test_a_backend_instance_is_used(tmp_path) -> None:
    class Inline:
        def __init__(self) -> None:
            self.done = []

        def gpu_count(self) -> int:
            return 0

        def start(self, job, attempt):
            self.done.append(execute_job(job, attempt=attempt))

        def wait_any(self, timeout=None):
            out, self.done = self.done, []
            return out

        def cancel_all(self) -> None:
            pass

        def close(self) -> None:
            pass

    job = make_job(tmp_path, "t", 'touch "$o"')
    report = run_graph(make_graph(tmp_path, job), RunOptions(backend=Inline()))
    assert report.exit_code == 0 and is_complete(job)
