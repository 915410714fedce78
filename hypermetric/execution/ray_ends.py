"""How the Ray backend reads a job's end: what a task returned or the dispatcher heard (`Ended`), the outcome
of a job that returned nothing (`lost_outcome`), and whether an attempt ran its script (`ran`)."""

from __future__ import annotations

import time
from typing import Any

from hypermetric.execution.protocol import JobOutcome, stderr_tail
from hypermetric.execution.ray_package import forget
from hypermetric.execution.ray_pull import RunnerLost
from hypermetric.plan.job import Job
from hypermetric.store.status import JobStatus


def lost_outcome(ray: Any, job: Job, attempt: int, error: Exception, *, cancelling: bool,
                 expected: str | None) -> JobOutcome:
    """The outcome of a task, or a runner's job, that returned nothing: cancelled (interrupted) or lost for
    good (failed). `expected` is the package fingerprint the workers were to have (None where it was
    shipped)."""
    now = time.time()
    if cancelling or isinstance(error, ray.exceptions.TaskCancelledError):
        return JobOutcome(job.id, JobStatus.PENDING, attempt, None, "interrupted", (), now, now)
    if isinstance(error, RunnerLost):
        return JobOutcome(job.id, JobStatus.FAILED, attempt, None, str(error), stderr_tail(job.workdir), now, now)
    if expected is not None and isinstance(error, ray.exceptions.RayTaskError):
        forget(expected)  # perhaps a worker without hypermetric: the next run asks the cluster again
    cause = getattr(error, "cause", None)
    detail = repr(cause) if cause is not None else (str(error).strip().splitlines() or [""])[0]
    reason = f"the Ray task failed ({type(error).__name__}): {detail}"
    return JobOutcome(job.id, JobStatus.FAILED, attempt, None, reason, stderr_tail(job.workdir), now, now)


def ran(outcome: JobOutcome) -> bool | None:
    """Whether the attempt ran its script, where its outcome says so for certain: one found complete never
    started, one with an exit code that succeeded or failed did; else (interrupted, lost, refused) None."""
    if outcome.status is JobStatus.COMPLETE:
        return False
    if outcome.exit_code is not None and outcome.status in (JobStatus.SUCCESS, JobStatus.FAILED):
        return True
    return None


class Ended:
    """What a task returned, read the way a completion callback's future gives it; or what the dispatcher
    heard of a runner's job (`ref` None): the outcome's bytes, or why there are none."""

    __slots__ = ("_ray", "_ref", "_data", "_error")

    def __init__(self, ray: Any, ref: Any, data: bytes | None = None, error: Exception | None = None) -> None:
        self._ray, self._ref, self._data, self._error = ray, ref, data, error

    def result(self) -> Any:
        if self._ref is not None:
            return self._ray.get(self._ref)
        if self._error is not None:
            raise self._error
        return self._data


WAKE = Ended(None, None)   # put in the queue of ends to wake `wait_any` (under no job: it settles nothing)


class Pulled:
    """The key of a job handed to the runners: `start` returns it, and the job's end comes back under it."""

    __slots__ = ()
