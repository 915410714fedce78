"""`RayBackend`: each job is a Ray task that runs the job protocol on whichever node Ray picks.

The engine and the scheduler are the local backend's: `-j N` caps the jobs submitted at once (Ray queues them
by their resources), `--retries` re-runs failed jobs. A job's `Resources` become the task's `num_cpus`,
`num_gpus`, `memory` and custom `resources`; a job no node of the cluster could ever hold fails at once with
a reason instead of waiting forever. Ray itself retries a task whose worker or node died (`max_retries`; the
worker side in `ray_task` makes a half-run attempt safe to repeat), never one whose script failed.

Submission is cheap by design: options are built once per distinct `Resources`; the task's one argument is
the `JobOptions` (with the package fingerprint its worker must have), pickled once, followed by the pickled
job (`ray_codec`: a worker decodes the shared part once); the result is the outcome as a tuple of plain
values. With up to `WAIT_LIMIT` jobs at once, `wait_any` waits for the next task's end with `ray.wait` over the
tasks in flight, which costs the driver less than a completion callback per task (the callback's thread takes
Python's lock from the main one for every task) but more with every task in flight; with more jobs at once,
each task's end arrives through a completion callback (`ObjectRef.future()`) in a queue, so `wait_any` costs
the same whether 100 or 10,000 jobs are in flight.
Output lines are tailed from the jobs' files on the shared output root (`ray_output`), only when someone
listens; lock-wait messages stay on the workers. Ray queues a task until a worker with its resources is free,
so a job handed to Ray has not started yet: given `on_start`, the backend reports each job when its script
really starts (seen from the same files) and says so with `reports_start`, so that the engine shows it
queued until then instead of running. `cancel_all` force-cancels every task: Ray kills the
workers and their watchdogs stop the jobs' process groups. `close` shuts Ray down only if this backend
started or joined it.

On a Ray this process started (all its workers on this machine), the jobs the engine names as next
(`stage_ahead`) are also handed to Ray ahead of their turn, behind the driver's start gate, so that a worker
that ends a job finds the next one queued and keeps its lease (`ray_ahead`); such a job runs only once the
scheduler has started it, and one it never starts (a failure, Ctrl-C, the end of the run) never runs. An
embedded Ray has `-j` slots of its own (`ray_cluster.SLOT`) that every plain job takes, so that Ray runs no
more of them at once than the scheduler started and the next ones wait in Ray's queue.
"""

from __future__ import annotations

import queue
import signal
import time
from collections.abc import Container
from concurrent.futures import Future
from dataclasses import replace
from functools import partial
from types import ModuleType
from typing import Any

from hypermetric.execution.backend import OutputSink, StartSink, WaitSink
from hypermetric.execution.protocol import JobOptions, JobOutcome, stderr_tail
from hypermetric.execution.ray_ahead import PLAIN, Ahead
from hypermetric.execution.ray_cluster import (
    SLOT,
    alive_nodes,
    connect,
    started_here,
    task_options,
    unplaceable,
)
from hypermetric.execution.ray_codec import payload, read_outcome, shared_options
from hypermetric.execution.ray_output import OutputTail
from hypermetric.execution.ray_package import forget
from hypermetric.execution.ray_task import NOT_RUN, run_task
from hypermetric.plan.job import Job, Resources
from hypermetric.store.status import JobStatus

WAIT_LIMIT = 64   # -j up to this: `ray.wait` over the tasks in flight (some 0.05 us each); beyond, callbacks


class RayBackend:
    """Runs each started job as one Ray task; see the module docstring.

    `jobs` and `on_wait` are taken for the same call as the local backend: the scheduler enforces `-j`, and
    lock waits happen on the workers, out of the driver's sight.
    """

    def __init__(self, jobs: int = 1, *, shell: tuple[str, ...] = ("bash", "-e"),
                 on_output: OutputSink | None = None, on_wait: WaitSink | None = None,
                 lock_interval: float = 5.0, grace: float = 5.0, max_retries: int = 3,
                 on_start: StartSink | None = None, address: str | None = None) -> None:
        import ray

        self._ray: ModuleType = ray
        self.address, self._owned, self._expected = connect(ray, jobs, address)
        self._task = ray.remote(max_retries=max_retries, retry_exceptions=False)(run_task)
        options = JobOptions(shell=tuple(shell), env=(("RAY_ADDRESS", self.address),),
                             lock_interval=lock_interval)
        self._ahead = Ahead(ray, jobs) if started_here(ray) else None
        self._slot = self._owned and self._ahead is not None   # the Ray `connect` started has `SLOT`s
        self._options = shared_options(options, self._expected, self._ahead.gate.path if self._ahead else None)
        self._grace = grace
        self._variants: dict[Resources, Any] = {}
        self._nodes: list[dict[str, float]] | None = None
        self._running: dict[Any, tuple[Job, int]] = {}
        self._finished: queue.SimpleQueue[tuple[Any, Future | _Result]] = queue.SimpleQueue()
        self._ended: set[Any] = set()  # refs of tasks that ended and were not settled yet
        # with `ray.wait`: the tasks in flight whose end `wait_any` has not seen (else None: callbacks)
        self._pending: list[Any] | None = [] if jobs <= WAIT_LIMIT else None
        self._ended_now: Container[Any] = self._ended if self._pending is None else _EndedNow(self._ended, ray)
        self._refused: list[JobOutcome] = []
        self._cancelling = False
        self.reports_start = on_start is not None
        listens = on_output is not None or on_start is not None
        self._tail = OutputTail(on_output, on_start=on_start) if listens else None

    def gpu_count(self) -> int:
        return int(self._ray.cluster_resources().get("GPU", 0))

    def stage_ahead(self, job_id: str, jobs: list[Job]) -> None:
        """The engine names the jobs that would start after `job_id`, which it starts next."""
        if self._ahead is not None:
            self._ahead.name(job_id, jobs)

    def start(self, job: Job, attempt: int) -> object:
        ahead = self._ahead.adopt(job, attempt, self._ended_now) if self._ahead is not None else None
        variant = self._variant(job.resources)
        if isinstance(variant, str):
            now = time.time()
            self._refused.append(JobOutcome(job.id, JobStatus.FAILED, attempt, None, variant, (), now, now))
            return None
        if self._tail is not None:
            self._tail.watch(job, attempt)
        if ahead is not None:  # tracked first: an interrupt between the two leaves no job running unseen
            self._running[ahead] = (job, attempt)
            self._ahead.open(ahead)  # type: ignore[union-attr]  # `ahead` comes from it
            return ahead
        ref = self._submit(variant, job, attempt, 0)
        self._running[ref] = (job, attempt)
        return ref

    def _submit(self, variant: Any, job: Job, attempt: int, token: int) -> Any:
        ref = variant.remote(payload(self._options, job, attempt, self._grace, token))
        if self._pending is not None:
            self._pending.append(ref)
        else:
            ref.future().add_done_callback(partial(self._finish, ref))
        return ref

    def _hand_over(self) -> None:
        """Hand to Ray, behind the gate, the jobs named at the starts of the last batch (after the batch: a job
        handed over between two starts of one batch would stand in Ray's queue before the second)."""
        ahead = self._ahead
        if ahead is not None:
            for job, token in ahead.to_hand_over():
                ahead.handed(job, self._submit(self._variant(PLAIN), job, 1, token), token)

    def wait_any(self, timeout: float | None = None) -> list[JobOutcome]:
        self._hand_over()
        outcomes, self._refused = self._refused, []
        finished = []
        if not outcomes:
            if not self._running:
                if timeout:
                    time.sleep(timeout)
                return []
            if self._pending is not None:
                self._wait(timeout)
            try:
                finished.append(self._finished.get(timeout=timeout if self._pending is None else 0))
            except queue.Empty:
                return []
        while True:
            try:
                finished.append(self._finished.get_nowait())
            except queue.Empty:
                break
        settled = (self._settle(ref, future) for ref, future in finished)
        outcomes.extend(outcome for outcome in settled if outcome is not None)
        return outcomes

    def _wait(self, timeout: float | None) -> None:
        """Hand the next task that ends (within `timeout`) to `_finish`, as Ray's callback would. It leaves the
        list of tasks in flight only after that: an interrupt in between makes the next call see it again,
        and `_settle` takes a task's end only once."""
        pending = self._pending
        if not pending:
            if timeout:
                time.sleep(timeout)
            return
        ready, _ = self._ray.wait(pending, num_returns=1, timeout=timeout)
        for ref in ready:
            self._finish(ref, _Result(self._ray, ref))
            pending.remove(ref)

    def idle(self) -> bool:
        """Whether every task started has ended and `wait_any` has taken its outcome (an interrupt between
        the two drops it: such a task has ended, and nothing will report it again)."""
        return not self._refused and self._finished.empty() and self._ended.issuperset(self._running)

    def cancel_all(self) -> None:
        self._cancelling = True
        if self._ahead is not None:
            self._ahead.stop()
        for ref in list(self._running):
            self._ray.cancel(ref, force=True)

    def close(self) -> None:
        if self._ahead is not None:
            self._ahead.close()
        if self._tail is not None:
            self._tail.close()
        if self._owned:
            self._ray.shutdown()

    def _variant(self, res: Resources) -> Any:
        """The remote function with `res`'s options, or why no node can run such a job (cached)."""
        variant = self._variants.get(res)
        if variant is None:
            if self._nodes is None:
                self._nodes = alive_nodes(self._ray)
            variant = unplaceable(res, self._nodes)
            if variant is None:
                options = task_options(res)
                if self._slot and res == PLAIN:
                    options["resources"] = {SLOT: 1.0}
                try:
                    variant = self._task.options(**options)
                except ValueError as e:
                    variant = f"resources Ray cannot grant: {e}"
            self._variants[res] = variant
        return variant

    def _finish(self, ref: Any, future: Future | _Result) -> None:
        """Called by Ray (any thread), or by `_wait`, when a task has ended."""
        self._ended.add(ref)
        self._finished.put((ref, future))

    def _settle(self, ref: Any, future: Future | _Result) -> JobOutcome | None:
        """The outcome of a task that ended; None for one handed over ahead whose job never started, or whose
        end was settled already."""
        if ref not in self._ended:
            return None
        self._ended.discard(ref)
        if self._ahead is not None and self._ahead.settle(ref):
            return None
        entry = self._running.pop(ref, None)
        if entry is None:  # adopted when an interrupt cut `start` short: its gate never opened, its job never ran
            return None
        job, attempt = entry
        try:
            data = future.result()
            outcome = read_outcome(data) if data != NOT_RUN else self._lost(job, attempt, None)
        except self._ray.exceptions.RayError as e:
            outcome = self._lost(job, attempt, e)
        if self._cancelling and outcome.exit_code == 128 + signal.SIGKILL:  # killed with its worker
            outcome = replace(outcome, status=JobStatus.PENDING, reason="interrupted")
        if self._tail is not None:
            self._tail.finish(job.id, _ran(outcome))
        return outcome

    def _lost(self, job: Job, attempt: int, error: Exception | None) -> JobOutcome:
        """The outcome of a task that returned nothing: cancelled (interrupted) or lost for good (failed);
        `error` None: the task could not reach the start gate, so its job did not run."""
        now = time.time()
        if self._cancelling or isinstance(error, self._ray.exceptions.TaskCancelledError):
            return JobOutcome(job.id, JobStatus.PENDING, attempt, None, "interrupted", (), now, now)
        if error is None:
            return JobOutcome(job.id, JobStatus.FAILED, attempt, None, "the Ray task could not reach the "
                              "driver's start gate, so the job did not run", (), now, now)
        if self._expected is not None and isinstance(error, self._ray.exceptions.RayTaskError):
            forget(self._expected)  # perhaps a worker without hypermetric: the next run asks the cluster again
        cause = getattr(error, "cause", None)
        detail = repr(cause) if cause is not None else (str(error).strip().splitlines() or [""])[0]
        reason = f"the Ray task failed ({type(error).__name__}): {detail}"
        return JobOutcome(job.id, JobStatus.FAILED, attempt, None, reason, stderr_tail(job.workdir), now, now)


def _ran(outcome: JobOutcome) -> bool | None:
    """Whether the attempt ran its script, where its outcome says so for certain: one found complete never
    started, one with an exit code that succeeded or failed did; else (interrupted, lost, refused) None."""
    if outcome.status is JobStatus.COMPLETE:
        return False
    if outcome.exit_code is not None and outcome.status in (JobStatus.SUCCESS, JobStatus.FAILED):
        return True
    return None


class _Result:
    """What a task returned, read the way a completion callback's future gives it."""

    __slots__ = ("_ray", "_ref")

    def __init__(self, ray: Any, ref: Any) -> None:
        self._ray, self._ref = ray, ref

    def result(self) -> Any:
        return self._ray.get(self._ref)


class _EndedNow:
    """`ref in` it: whether a task has ended, as `wait_any` has seen or as Ray says now (without callbacks,
    a task that has ended is not known to have until `wait_any` asks)."""

    def __init__(self, ended: set[Any], ray: Any) -> None:
        self._ended, self._ray = ended, ray

    def __contains__(self, ref: object) -> bool:
        return ref in self._ended or bool(self._ray.wait([ref], num_returns=1, timeout=0, fetch_local=False)[0])
