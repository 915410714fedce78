"""`RayBackend`: each job is a Ray task that runs the job protocol on whichever node Ray picks.

The engine and the scheduler are the local backend's: `-j N` caps the jobs submitted at once (Ray queues them
by their resources), `--retries` re-runs failed jobs. A job's `Resources` become the task's `num_cpus`,
`num_gpus`, `memory` and custom `resources`; a job no node of the cluster could ever hold fails at once with
a reason instead of waiting forever. Ray itself retries a task whose worker or node died (`max_retries`; the
worker side in `ray_task` makes a half-run attempt safe to repeat), never one whose script failed.

Submission is cheap by design: options are built once per distinct `Resources`; the task's one argument is
the `JobOptions` (with the package fingerprint its worker must have), pickled once, followed by the pickled
job (`ray_codec`: a worker decodes the shared part once); the result is the outcome as a tuple of plain
values; and each task's end arrives through a completion callback (`ObjectRef.future()`) in a queue, so
`wait_any` costs the same whether 10 or 10,000 jobs are in flight (`ray.wait` over every pending reference
costs O(jobs) per call).
Output lines are tailed from the jobs' files on the shared output root (`ray_output`), only when someone
listens; lock-wait messages stay on the workers. Ray queues a task until a worker with its resources is free,
so a job handed to Ray has not started yet: given `on_start`, the backend reports each job when its script
really starts (seen from the same files) and says so with `reports_start`, so that the engine shows it
queued until then instead of running. `cancel_all` force-cancels every task: Ray kills the
workers and their watchdogs stop the jobs' process groups. `close` shuts Ray down only if this backend
started or joined it.
"""

from __future__ import annotations

import queue
import signal
import time
from concurrent.futures import Future
from dataclasses import replace
from functools import partial
from types import ModuleType
from typing import Any

from hypermetric.execution.backend import OutputSink, StartSink, WaitSink
from hypermetric.execution.protocol import JobOptions, JobOutcome, stderr_tail
from hypermetric.execution.ray_cluster import alive_nodes, connect, task_options, unplaceable
from hypermetric.execution.ray_codec import payload, read_outcome, shared_options
from hypermetric.execution.ray_output import OutputTail
from hypermetric.execution.ray_package import forget
from hypermetric.execution.ray_task import run_task
from hypermetric.plan.job import Job, Resources
from hypermetric.store.status import JobStatus


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
        self._options = shared_options(options, self._expected)
        self._grace = grace
        self._variants: dict[Resources, Any] = {}
        self._nodes: list[dict[str, float]] | None = None
        self._running: dict[Any, tuple[Job, int]] = {}
        self._finished: queue.SimpleQueue[tuple[Any, Future]] = queue.SimpleQueue()
        self._ended: set[Any] = set()  # refs of tasks that ended and were not settled yet
        self._refused: list[JobOutcome] = []
        self._cancelling = False
        self.reports_start = on_start is not None
        listens = on_output is not None or on_start is not None
        self._tail = OutputTail(on_output, on_start=on_start) if listens else None

    def gpu_count(self) -> int:
        return int(self._ray.cluster_resources().get("GPU", 0))

    def start(self, job: Job, attempt: int) -> object:
        variant = self._variant(job.resources)
        if isinstance(variant, str):
            now = time.time()
            self._refused.append(JobOutcome(job.id, JobStatus.FAILED, attempt, None, variant, (), now, now))
            return None
        if self._tail is not None:
            self._tail.watch(job, attempt)
        ref = variant.remote(payload(self._options, job, attempt, self._grace))
        self._running[ref] = (job, attempt)
        ref.future().add_done_callback(partial(self._finish, ref))
        return ref

    def wait_any(self, timeout: float | None = None) -> list[JobOutcome]:
        outcomes, self._refused = self._refused, []
        finished = []
        if not outcomes:
            if not self._running:
                if timeout:
                    time.sleep(timeout)
                return []
            try:
                finished.append(self._finished.get(timeout=timeout))
            except queue.Empty:
                return []
        while True:
            try:
                finished.append(self._finished.get_nowait())
            except queue.Empty:
                break
        outcomes.extend(self._settle(ref, future) for ref, future in finished)
        return outcomes

    def idle(self) -> bool:
        """Whether every task started has ended and `wait_any` has taken its outcome (an interrupt between
        the two drops it: such a task has ended, and nothing will report it again)."""
        return not self._refused and self._finished.empty() and self._ended.issuperset(self._running)

    def cancel_all(self) -> None:
        self._cancelling = True
        for ref in list(self._running):
            self._ray.cancel(ref, force=True)

    def close(self) -> None:
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
                try:
                    variant = self._task.options(**task_options(res))
                except ValueError as e:
                    variant = f"resources Ray cannot grant: {e}"
            self._variants[res] = variant
        return variant

    def _finish(self, ref: Any, future: Future) -> None:
        """Called by Ray (any thread) when a task has ended."""
        self._ended.add(ref)
        self._finished.put((ref, future))

    def _settle(self, ref: Any, future: Future) -> JobOutcome:
        job, attempt = self._running.pop(ref)
        self._ended.discard(ref)
        try:
            outcome = read_outcome(future.result())
        except self._ray.exceptions.RayError as e:
            outcome = self._lost(job, attempt, e)
        if self._cancelling and outcome.exit_code == 128 + signal.SIGKILL:  # killed with its worker
            outcome = replace(outcome, status=JobStatus.PENDING, reason="interrupted")
        if self._tail is not None:
            self._tail.finish(job.id)
        return outcome

    def _lost(self, job: Job, attempt: int, error: Exception) -> JobOutcome:
        """The outcome of a task that returned nothing: cancelled (interrupted) or lost for good (failed)."""
        now = time.time()
        if self._cancelling or isinstance(error, self._ray.exceptions.TaskCancelledError):
            return JobOutcome(job.id, JobStatus.PENDING, attempt, None, "interrupted", (), now, now)
        if self._expected is not None and isinstance(error, self._ray.exceptions.RayTaskError):
            forget(self._expected)  # perhaps a worker without hypermetric: the next run asks the cluster again
        cause = getattr(error, "cause", None)
        detail = repr(cause) if cause is not None else (str(error).strip().splitlines() or [""])[0]
        reason = f"the Ray task failed ({type(error).__name__}): {detail}"
        return JobOutcome(job.id, JobStatus.FAILED, attempt, None, reason, stderr_tail(job.workdir), now, now)
