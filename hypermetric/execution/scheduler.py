"""A backend-agnostic ready queue over a `JobGraph`: deterministic order, slots, resources, failures.

* Jobs already complete when the run starts are skipped without a slot. Everything else in the graph runs,
  except ephemeral jobs, which run only when needed: when an incomplete job needs them (directly or
  through other ephemeral jobs), when they are targets themselves, or, for an ephemeral job nothing depends on
  (a service's `stop`), when one of its dependencies runs.
* Ready jobs start in ascending id order, so that two runs of the same graph go the same way (HyperMake's
  order depends on hashing).
* Capacity: at most `slots` jobs at once, and `slots` CPU units shared by the jobs' `resources.cpus`
  (1 by default, so `-j N` means N ordinary jobs); GPUs are counted against the backend's GPU count. A job
  asking for more than the whole capacity runs alone: when it is the next candidate nothing else starts until
  the running jobs have finished. Smaller jobs may start ahead of a larger one that does not fit yet.
* Fail-stop: after a failure nothing new starts; running jobs finish (HyperMake interrupts them). Keep-going
  (`-k`): the jobs downstream of a failure are SKIPPED (HyperMake runs them on missing inputs) and
  independent ones go on. A failed job is retried `retries` times.
* Queued ahead: a backend whose workers take their next job themselves the moment one ends (`ahead`) may
  be handed up to `ahead` ordinary jobs (one CPU, no GPU) beyond `slots` while only ordinary jobs are in
  flight; they count as running, and a larger job starts only once no more than `slots` are in flight. When
  the run stops, the backend gives back those it has not begun (`finish` of a `withdrawn` outcome).
* Finalizers: a job with `after` deps (a service's `stop`) waits until those have finished, whatever
  their outcome, and its other deps have succeeded; then it starts even after a failure (fail-stop or
  keep-going), before anything else. It is skipped only when one of its other deps fails.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from hypermetric.plan.graph import JobGraph
from hypermetric.plan.job import Job
from hypermetric.store.status import JobStatus, is_complete

if TYPE_CHECKING:  # a type only: scheduling a run whose jobs are all done need not import how jobs are run
    from hypermetric.execution.protocol import JobOutcome

_EPS = 1e-9


@dataclass
class Step:
    """What `finish` decided: the job will be retried, and/or these jobs are now SKIPPED."""

    retry: bool = False
    skipped: list[str] = field(default_factory=list)


def jobs_to_run(graph: JobGraph, not_done: AbstractSet[str]) -> set[str]:
    """The ids this run executes, from the jobs not done (module docstring): a job found done is never read, so
    a run of a few jobs in a large, mostly done graph costs what those few cost."""
    jobs = graph.jobs
    pending = [i for i in not_done if i in jobs]
    run = {i for i in pending if not jobs[i].ephemeral}
    if len(run) < len(pending):  # ephemeral jobs run when they are targets (a tensor's targets may be many)
        targets = set(graph.targets)
        run.update(i for i in pending if i in targets)
    services = [i for i in pending if i not in run and jobs[i].ephemeral and any(d in run for d in jobs[i].deps)]
    if services:
        needed = _depended_on(graph, set(services))
        run.update(i for i in services if i not in needed)
    stack = list(run)
    while stack:  # the ephemeral jobs that what runs needs, directly or through other ephemeral ones
        for dep in jobs[stack.pop()].deps:
            if dep in not_done and dep not in run and dep in jobs and jobs[dep].ephemeral:
                run.add(dep)
                stack.append(dep)
    return run


def _depended_on(graph: JobGraph, ids: set[str]) -> set[str]:
    """Those of `ids` some job of the graph depends on (a scan of the dependencies, no reverse map)."""
    return {dep for deps in graph.needs().values() for dep in deps if dep in ids}


def _dependents(graph: JobGraph, ids: AbstractSet[str]) -> dict[str, list[str]]:
    """Job id -> the jobs among `ids` that depend on it (sorted), for the jobs of `ids` only: the run's part of
    the graph's reverse map."""
    out: dict[str, list[str]] = {}
    for job_id in sorted(ids):
        for dep in graph.deps(job_id):
            if dep in ids:
                out.setdefault(dep, []).append(job_id)
    return out


class Scheduler:
    """Decides which job starts next; the engine starts them on a backend and reports outcomes back."""

    def __init__(self, graph: JobGraph, *, slots: int = 1, keep_going: bool = False, retries: int = 0,
                 gpus: Callable[[], float] | float = 0.0, complete: Callable[[Job], bool] = is_complete,
                 not_done: AbstractSet[str] | None = None, ahead: int = 0) -> None:
        """`not_done`: the ids of the jobs not done (a status pass's answer); without it, `complete` is asked
        of every job."""
        self.graph = graph
        self.slots = max(1, slots)
        self.ahead = max(0, ahead)
        self._larger = 0  # jobs in flight that are not ordinary (module docstring: queued ahead)
        self.keep_going = keep_going
        self.retries = max(0, retries)
        self._gpu_source = gpus
        self._gpu_capacity: float | None = None
        if not_done is None:
            not_done = {i for i in graph.order() if not complete(graph.jobs[i])}
        self.done_count = len(graph.jobs) - sum(1 for i in not_done if i in graph.jobs)  # skipped, never read
        self.to_run = jobs_to_run(graph, not_done)
        self.idle_count = len(graph.jobs) - self.done_count - len(self.to_run)  # not done, and not needed
        order = [i for i in graph.order() if i in self.to_run] if self.to_run else []
        self.state: dict[str, JobStatus] = dict.fromkeys(order, JobStatus.PENDING)
        self.attempts: dict[str, int] = dict.fromkeys(self.state, 0)
        self.running: dict[str, Job] = {}
        self.stopped = False
        self._cpus = 0.0
        self._gpus = 0.0
        jobs = graph.jobs
        self._finalizers = {i: frozenset(jobs[i].after) for i in self.state if jobs[i].after}
        self._dependents = _dependents(graph, self.to_run)
        self._remaining = {i: sum(1 for d in jobs[i].deps if d in self.to_run) for i in self.state}
        self._ready = [i for i, n in self._remaining.items() if n == 0 and i not in self._finalizers]
        heapq.heapify(self._ready)

    @property
    def done(self) -> bool:
        """Nothing runs and nothing more will start."""
        return not self.running and (self.stopped or not self._ready) and not self.ready_finalizers()

    def stop(self) -> None:
        """Start nothing new (fail-stop, interrupt)."""
        self.stopped = True

    def take(self) -> list[tuple[Job, int]]:
        """The jobs to start now, each with its attempt number; they count as running until `finish`."""
        started: list[tuple[Job, int]] = []
        for job_id in self.ready_finalizers():
            if len(self.running) >= self.slots:
                break
            started.append(self._start(self.graph.jobs[job_id]))
        deferred: list[str] = []
        while self._ready and not self.stopped and len(self.running) < self.slots:
            job_id = heapq.heappop(self._ready)
            job = self.graph.jobs[job_id]
            if not self._fits(job):
                deferred.append(job_id)
                if self._oversized(job):
                    break
                continue
            started.append(self._start(job))
        for job_id in deferred:
            heapq.heappush(self._ready, job_id)
        while self._ready and self.ahead and not self._larger and not self.stopped and \
                len(self.running) < self.slots + self.ahead and _ordinary(self.graph.jobs[self._ready[0]]):
            started.append(self._start(self.graph.jobs[heapq.heappop(self._ready)]))
        return started

    def _start(self, job: Job) -> tuple[Job, int]:
        self._occupy(job, +1)
        self.state[job.id] = JobStatus.RUNNING
        self.attempts[job.id] += 1
        return job, self.attempts[job.id]

    def ready_finalizers(self) -> list[str]:
        """Pending finalizers (services' `stop` jobs) whose other deps succeeded and whose `after` deps will not
        run any more: the ones to start now, also after an interrupt."""
        state = self.state
        ready = []
        for job_id, after in self._finalizers.items():
            if state[job_id] is not JobStatus.PENDING:
                continue
            deps = self.graph.jobs[job_id].deps
            if all(state.get(d, JobStatus.SUCCESS) is JobStatus.SUCCESS for d in deps if d not in after) and \
                    all(self._settled(d) for d in after):
                ready.append(job_id)
        return sorted(ready)

    def _settled(self, job_id: str) -> bool:
        """The job will not run (again) in this run: finished, skipped, not needed, or never to start."""
        status = self.state.get(job_id)
        if status is JobStatus.RUNNING:
            return False
        return status is not JobStatus.PENDING or self.stopped

    def finish(self, outcome: JobOutcome) -> Step:
        """Record the outcome of a running job and release its resources."""
        job = self.running.get(outcome.job_id)
        if job is None:
            return Step()
        self._occupy(job, -1)
        if outcome.withdrawn:  # never began: as if never taken
            self.state[job.id] = JobStatus.PENDING
            self.attempts[job.id] -= 1
            if job.id not in self._finalizers:
                heapq.heappush(self._ready, job.id)
            return Step()
        if outcome.ok:
            self.state[job.id] = JobStatus.SUCCESS
            self._release_dependents(job.id)
            return Step()
        if outcome.interrupted:
            self.state[job.id] = JobStatus.PENDING
            self.stop()
            return Step()
        if self.attempts[job.id] <= self.retries and not self.stopped:
            self.state[job.id] = JobStatus.PENDING
            if job.id not in self._finalizers:
                heapq.heappush(self._ready, job.id)
            return Step(retry=True)
        self.state[job.id] = JobStatus.FAILED
        if not self.keep_going:
            self.stop()
            return Step()
        return Step(skipped=self._skip_downstream(job.id))

    def held_back_by(self, job_id: str) -> list[Job]:
        """The jobs that only `job_id` still holds back (they become ready if it succeeds), at most as many as
        can start at once: a backend may prepare them while it runs."""
        out: list[Job] = []
        for dependent in self._dependents.get(job_id, ()):
            if len(out) >= self.slots:
                break
            if self._remaining.get(dependent) == 1 and dependent not in self._finalizers and \
                    self.state.get(dependent) is JobStatus.PENDING:
                out.append(self.graph.jobs[dependent])
        return out

    def waiting(self) -> list[Job]:
        """The ready jobs that would start next, in the order `take` would start them, at most as many as can
        run at once: a backend may prepare them while the running jobs hold every slot."""
        ready = self._ready
        out: list[Job] = []
        frontier = [(ready[0], 0)] if ready and not self.stopped else []
        while frontier and len(out) < self.slots:
            job_id, index = heapq.heappop(frontier)
            out.append(self.graph.jobs[job_id])
            for child in (2 * index + 1, 2 * index + 2):
                if child < len(ready):
                    heapq.heappush(frontier, (ready[child], child))
        return out

    def _release_dependents(self, job_id: str) -> None:
        for dependent in self._dependents.get(job_id, ()):
            if self.state.get(dependent) is JobStatus.PENDING and dependent not in self._finalizers:
                self._remaining[dependent] -= 1
                if self._remaining[dependent] == 0:
                    heapq.heappush(self._ready, dependent)

    def _skip_downstream(self, job_id: str) -> list[str]:
        """Mark PENDING jobs downstream of `job_id` SKIPPED (a finalizer is not downstream of `after` deps). Only
        the jobs of this run are followed: one that depends on the failure only through a job found done does
        not wait for it, and is not skipped."""
        dependents = self._dependents
        seen = {job_id}
        stack = [job_id]
        while stack:
            current = stack.pop()
            for dependent in dependents.get(current, ()):
                if dependent not in seen and current not in self._finalizers.get(dependent, ()):
                    seen.add(dependent)
                    stack.append(dependent)
        skipped = sorted(i for i in seen if i != job_id and self.state.get(i) is JobStatus.PENDING)
        for i in skipped:
            self.state[i] = JobStatus.SKIPPED
        return skipped

    def _occupy(self, job: Job, sign: int) -> None:
        if sign > 0:
            self.running[job.id] = job
        else:
            del self.running[job.id]
        self._cpus += sign * job.resources.cpus
        self._gpus += sign * job.resources.gpus
        if not _ordinary(job):
            self._larger += sign

    def gpu_capacity(self) -> float:
        """GPUs available to the run (asked of the backend once, when a job first wants GPUs)."""
        if self._gpu_capacity is None:
            source = self._gpu_source
            self._gpu_capacity = float(source() if callable(source) else source)
        return self._gpu_capacity

    def _fits(self, job: Job) -> bool:
        if not self.running:
            return True
        res = job.resources
        if self._cpus + res.cpus > self.slots + _EPS:
            return False
        return res.gpus <= 0 or self._gpus + res.gpus <= self.gpu_capacity() + _EPS

    def _oversized(self, job: Job) -> bool:
        res = job.resources
        return res.cpus > self.slots + _EPS or (res.gpus > 0 and res.gpus > self.gpu_capacity() + _EPS)


def _ordinary(job: Job) -> bool:
    """One CPU and no GPU: a job that any free worker of the backend can run beside the others."""
    return job.resources.cpus == 1 and job.resources.gpus <= 0
