"""How fast the run loop reacts to a job's end: the next job is dispatched on the completion event itself.

These tests count wake-ups and check the order of calls; they never measure time. An engine that polled the
backend at a short interval, or that let a completion wait for a later turn of its loop before starting the
dependent job, would fail them.
"""

from __future__ import annotations

from jobs import consume, make_graph, make_job

from hypermetric.execution.engine import RunOptions, run_graph
from hypermetric.execution.local import LocalBackend
from hypermetric.store.status import JobStatus

# A poll interval shorter than this would mean the engine looks for finished jobs instead of being woken.
_SHORTEST_POLL = 0.5


class _Recorder:
    """A `LocalBackend` that logs every start and every wake-up of `wait_any` that delivered outcomes."""

    def __init__(self, jobs: int) -> None:
        self.inner = LocalBackend(jobs)
        self.log: list[tuple[str, object]] = []
        self.timeouts: list[float | None] = []
        self.idle_wakes = 0

    def gpu_count(self) -> int:
        return 0

    def start(self, job, attempt: int) -> object:
        self.log.append(("start", job.id))
        return self.inner.start(job, attempt)

    def wait_any(self, timeout: float | None = None):
        self.timeouts.append(timeout)
        outcomes = self.inner.wait_any(timeout)
        if outcomes:
            self.log.append(("wake", sorted(o.job_id for o in outcomes)))
        else:  # only after a whole poll interval, which the timeouts check bounds from below
            self.idle_wakes += 1
        return outcomes

    def cancel_all(self) -> None:
        self.inner.cancel_all()

    def close(self) -> None:
        self.inner.close()


def _chain(root, length: int):
    jobs = [make_job(root, "c0", 'echo 0 > "$o"')]
    for i in range(1, length):
        jobs.append(consume(root, f"c{i}", f'cat "$i" > "$o"; echo {i} >> "$o"', jobs[-1]))
    return jobs


def test_chain_starts_each_job_on_its_predecessors_completion(tmp_path) -> None:
    """Each wake-up delivers the job just started, and the very next call starts its dependent."""
    jobs = _chain(tmp_path, 8)
    backend = _Recorder(2)
    report = run_graph(make_graph(tmp_path, *jobs), RunOptions(jobs=2, backend=backend, silent=True))
    assert report.exit_code == 0 and report.count(JobStatus.SUCCESS) == len(jobs)
    expected: list[tuple[str, object]] = []
    for job in jobs:
        expected += [("start", job.id), ("wake", [job.id])]
    assert backend.log == expected
    assert all(t is None or t >= _SHORTEST_POLL for t in backend.timeouts)
    # one wake-up per job, apart from whole poll intervals on a very slow machine
    assert len(backend.timeouts) == len(jobs) + backend.idle_wakes


def test_fan_out_refills_a_slot_on_each_completion(tmp_path) -> None:
    """With two slots and independent jobs, every wake-up is followed at once by as many starts as jobs ended,
    so the slots never stay empty until a later poll."""
    jobs = [make_job(tmp_path, "t", 'echo x > "$o"', case=[("I", str(i))]) for i in range(10)]
    backend = _Recorder(2)
    report = run_graph(make_graph(tmp_path, *jobs), RunOptions(jobs=2, backend=backend, silent=True))
    assert report.exit_code == 0 and report.count(JobStatus.SUCCESS) == len(jobs)
    assert backend.log[:2] == [("start", jobs[0].id), ("start", jobs[1].id)]
    running = 2
    waiting = len(jobs) - 2
    log = backend.log[2:]
    while log:
        kind, ended = log.pop(0)
        assert kind == "wake"
        running -= len(ended)
        refill = min(waiting, 2 - running)
        assert [k for k, _ in log[:refill]] == ["start"] * refill  # started before the loop waits again
        del log[:refill]
        running += refill
        waiting -= refill
    assert running == 0 and waiting == 0
    assert all(t is None or t >= _SHORTEST_POLL for t in backend.timeouts)


def test_local_backend_wakes_the_waiter_when_a_job_ends(tmp_path) -> None:
    """`wait_any` without a timeout returns the outcome of the job that ended; it does not come back empty."""
    backend = LocalBackend(1)
    try:
        job = make_job(tmp_path, "a", 'echo done > "$o"')
        backend.start(job, 1)
        outcomes = backend.wait_any(None)
    finally:
        backend.close()
    assert [(o.job_id, o.status) for o in outcomes] == [(job.id, JobStatus.SUCCESS)]
