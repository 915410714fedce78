"""Which job directories a local runner makes ahead, and when (`staging` says how).

The run's loop says, before it starts a job, which jobs that job alone still holds back or, when it holds back
none, which ready jobs wait for a slot (`plan`); the worker running it makes the folder of the first of them
not made yet while its script runs (`runner_for`), when it would otherwise only wait; a job then started takes
its folder (`claim`). Folders never taken are deleted when the runner closes.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from hypermetric.execution import staging
from hypermetric.execution.prepare import new_uuid
from hypermetric.plan.job import Job


class Ahead:
    """The folders made ahead by one runner, by job id."""

    def __init__(self, cancelled: Callable[[], bool],
                 start: Callable[[Job, staging.Staged], None] | None = None) -> None:
        """`start(job, staged)` may start the job's script ahead too (`staged.started`)."""
        self._cancelled = cancelled
        self._start = start
        self._mutex = threading.Condition()
        self._planned: dict[str, list[Job]] = {}
        self._staged: dict[str, staging.Staged] = {}
        self._wanted: set[str] = set()  # planned, made, or started: never planned again
        self._taken: set[str] = set()  # started
        self._making: set[str] = set()  # being made now, by a worker that will say when it is done
        self._closed = False

    def plan(self, job_id: str, jobs: list[Job], most: int = 1) -> None:
        """Make the folders of (at most `most` of) `jobs` while job `job_id` runs: those that can be
        (`staging.stageable`) and are not made, planned or started already."""
        with self._mutex:
            jobs = [job for job in jobs if job.id not in self._wanted and staging.stageable(job)][:most]
            if jobs:
                self._planned[job_id] = jobs
                self._wanted.update(job.id for job in jobs)

    def runner_for(self, job_id: str) -> Callable[[], None] | None:
        """What the worker running `job_id` calls once its script runs; None when nothing is planned."""
        with self._mutex:
            if job_id not in self._planned:
                return None
        return lambda: self._make(job_id)

    def claim(self, job: Job) -> staging.Staged | None:
        """The folder made ahead for `job`, now the caller's to use (or discard), if there is one. A folder
        being made right now is waited for: finishing it is quicker than preparing the job anew, and no work
        is done twice."""
        with self._mutex:
            while job.id in self._making:
                self._mutex.wait()
            self._wanted.add(job.id)  # started now: a plan still to come for it must not make its folder
            self._taken.add(job.id)
            return self._staged.pop(job.id, None)

    def close(self) -> None:
        """Delete the folders nobody took; make no more."""
        with self._mutex:
            self._closed = True
            left = list(self._staged.values())
            self._staged.clear()
            self._planned.clear()
        for staged in left:
            staging.discard(staged)

    def _make(self, job_id: str) -> None:
        with self._mutex:
            jobs = self._planned.pop(job_id, [])
        for job in jobs:
            with self._mutex:
                if self._closed or job.id in self._staged or job.id in self._taken or self._cancelled():
                    continue
                self._making.add(job.id)
            made = None
            try:
                made = self._made(job)
            except Exception:  # work done ahead is optional: the job's own start does it again
                made = None
            finally:
                with self._mutex:
                    self._making.discard(job.id)
                    if made is not None and not self._closed:
                        self._staged[job.id] = made
                        made = None
                    self._mutex.notify_all()
            if made is not None:  # the runner closed meanwhile
                staging.discard(made)

    def _made(self, job: Job) -> staging.Staged | None:
        made = staging.stage(job, new_uuid())
        if made is None:
            return None
        try:
            if self._start is not None:
                self._start(job, made)
            if made.started is None:
                staging.write_outputs(made.path)
        except BaseException:
            staging.discard(made)
            raise
        return made
