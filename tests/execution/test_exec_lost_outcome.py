"""Ctrl-C between a backend handing over a job's outcome and the run settling it: the run must still end.

The interrupt (a `KeyboardInterrupt` in the main thread) can land right after `wait_any` took an outcome off
its queue and before the engine settled it. That outcome is gone; the run used to wait for it for ever while
cancelling. A backend that can say it has nothing left to report (`idle`) lets the run settle such jobs as
interrupted, never as done.
"""

from __future__ import annotations

from jobs import make_graph, make_job
from support.waiting import wait_until

from hypermetric.execution.engine import RunOptions, run_graph
from hypermetric.execution.local import LocalBackend
from hypermetric.execution.protocol import execute_job
from hypermetric.store.status import JobStatus


class _LosesAnOutcome:
    """Runs each job at once; the first `wait_any` drops the outcome it took and raises the interrupt."""

    def __init__(self) -> None:
        self.started: list = []
        self.interrupted = False
        self.empty_waits = 0

    def gpu_count(self) -> int:
        return 0

    def start(self, job, attempt):
        self.started.append(execute_job(job, attempt=attempt))

    def wait_any(self, timeout=None):
        if not self.interrupted:
            self.interrupted = True
            self.started.clear()  # taken off the queue, then the signal arrives before it is returned
            raise KeyboardInterrupt
        self.empty_waits += 1
        assert self.empty_waits < 50, "the run waits for an outcome that was already handed over"
        return []

    def idle(self) -> bool:
        return not self.started

    def cancel_all(self) -> None:
        pass

    def close(self) -> None:
        pass


def test_an_outcome_lost_to_the_interrupt_is_settled_as_interrupted(tmp_path) -> None:
    job = make_job(tmp_path, "t", 'touch "$o"')
    backend = _LosesAnOutcome()
    report = run_graph(make_graph(tmp_path, job), RunOptions(backend=backend, record=False))
    assert report.interrupted
    assert report.results[job.id].status is JobStatus.PENDING
    assert report.results[job.id].reason == "interrupted"


def test_the_local_backend_is_idle_once_every_outcome_is_taken(tmp_path) -> None:
    job = make_job(tmp_path, "t", 'touch "$o"')
    backend = LocalBackend(1)
    try:
        assert backend.idle()
        backend.start(job, 1)
        outcomes: list = []
        wait_until(lambda: outcomes.extend(backend.wait_any(0.1)) or outcomes, what="the job's outcome")
        assert [o.job_id for o in outcomes] == [job.id]
        wait_until(backend.idle, what="the worker to return")
    finally:
        backend.close()


def test_the_ray_backend_is_idle_once_every_ended_task_is_taken() -> None:
    """Without Ray: the bookkeeping that `idle` reads, driven the way Ray's callbacks and `wait_any` drive it."""
    import queue

    from hypermetric.execution.ray_backend import RayBackend

    backend = object.__new__(RayBackend)
    backend._refused, backend._finished, backend._running, backend._ended = [], queue.SimpleQueue(), {}, set()
    assert backend.idle()
    backend._running["ref"] = ("job", 1)
    assert not backend.idle()  # still running
    backend._finish("ref", None)
    assert not backend.idle()  # ended, its outcome not taken yet
    backend._finished.get_nowait()  # taken by `wait_any`, then lost to the interrupt before it was settled
    assert backend.idle()
