"""`invalidate`, `remove`, `touch` and `unlock`: which jobs each one affects, and doing it.

Each action comes in two steps, so that a caller can show the jobs (and ask) before anything changes:
`affected(action, …)` lists the jobs, `apply(action, jobs)` acts on them. `invalidate(pipeline, targets)`
and the others do both.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from typing import Literal

from hypermetric.api.loading import plan, plan_with_history
from hypermetric.plan.job import Job
from hypermetric.semantics.pipeline import Pipeline
from hypermetric.store.status import JobStatus

Action = Literal["invalidate", "remove", "touch", "unlock"]
# Told which job a lock wait is for, and why it waits (the running job's holder).
OnWait = Callable[[Job, str], None]


def target_jobs(pipeline: Pipeline, targets: Sequence[str], *, root: str | None = None) -> list[Job]:
    """The jobs the targets name, without what they depend on."""
    graph = plan(pipeline, targets, root)
    return [graph.jobs[i] for i in graph.targets]


def downstream_jobs(pipeline: Pipeline, targets: Sequence[str], *, root: str | None = None) -> list[Job]:
    """The target jobs and every recorded job (`<root>/.runs`) that depends on them, dependents first (so
    a dependent is never left done after what it was made from is not)."""
    graph = plan_with_history(pipeline, targets, root)
    affected = graph.downstream(graph.targets)
    return [graph.jobs[i] for i in reversed(graph.order()) if i in affected]


def locked(jobs: Iterable[Job]) -> list[Job]:
    """The jobs that have a lock file."""
    from hypermetric.store.lock import lock_path

    return [job for job in jobs if os.path.lexists(lock_path(job))]


def affected(action: Action, pipeline: Pipeline, targets: Sequence[str], *,
             root: str | None = None) -> list[Job]:
    """The jobs `action` on the targets changes: for `invalidate` also everything recorded downstream; for
    `unlock` only the jobs with a lock file."""
    if action == "invalidate":
        return downstream_jobs(pipeline, targets, root=root)
    jobs = target_jobs(pipeline, targets, root=root)
    return locked(jobs) if action == "unlock" else jobs


def apply(action: Action, jobs: Iterable[Job], *, on_wait: OnWait | None = None) -> None:
    """Do `action` to each job in turn; a job that is running is waited for (`on_wait` hears why)."""
    from hypermetric.store import lock, mutations

    for job in jobs:
        wait = _for_job(on_wait, job)
        if action == "invalidate":
            mutations.invalidate([job], on_wait=wait)
        elif action == "remove":
            mutations.remove(job, on_wait=wait)
        elif action == "touch":
            mutations.touch(job, on_wait=wait)
        else:
            lock.unlock(job)


def statuses(jobs: Iterable[Job]) -> list[JobStatus]:
    """Each job's status as the disk shows it."""
    from hypermetric.store.status import job_statuses

    return list(job_statuses(jobs))


def invalidate(pipeline: Pipeline, targets: Sequence[str], *, root: str | None = None,
               on_wait: OnWait | None = None) -> list[Job]:
    """Mark the target jobs and every recorded job downstream of them as not done (outputs kept)."""
    return _do("invalidate", pipeline, targets, root, on_wait)


def remove(pipeline: Pipeline, targets: Sequence[str], *, root: str | None = None,
           on_wait: OnWait | None = None) -> list[Job]:
    """Delete the target jobs' directories."""
    return _do("remove", pipeline, targets, root, on_wait)


def touch(pipeline: Pipeline, targets: Sequence[str], *, root: str | None = None,
          on_wait: OnWait | None = None) -> list[Job]:
    """Mark the target jobs as done without running them (missing outputs are created empty)."""
    return _do("touch", pipeline, targets, root, on_wait)


def unlock(pipeline: Pipeline, targets: Sequence[str], *, root: str | None = None) -> list[Job]:
    """Remove the lock files a killed run left in the target jobs' directories; returns the unlocked jobs."""
    return _do("unlock", pipeline, targets, root, None)


def _do(action: Action, pipeline: Pipeline, targets: Sequence[str], root: str | None,
        on_wait: OnWait | None) -> list[Job]:
    jobs = affected(action, pipeline, targets, root=root)
    apply(action, jobs, on_wait=on_wait)
    return jobs


def _for_job(on_wait: OnWait | None, job: Job) -> Callable[[str], None] | None:
    if on_wait is None:
        return None
    return lambda message: on_wait(job, message)
