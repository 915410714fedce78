"""`RayBackend`: jobs run the job protocol in Ray tasks, on whichever node Ray picks.

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

Jobs of the default kind do not get a Ray task each: they run in runners, Ray tasks that each run job after
job sent by the driver and tell each end over a socket (`ray_pull`), so that a worker that ends a job goes on
with the next without asking Ray again; the job of a runner whose worker died runs again on another, up to
`max_retries` times, as Ray would retry its task. On a Ray this process started, runners connect over a Unix
socket, and the embedded Ray's `-j` slots (`ray_cluster.SLOT`), one per runner, keep it from running more of
them at once than `-j`; on a cluster it joined, over TCP to this node's address, and as many at once as the
cluster has CPUs (looked up again every `LIMIT_REFRESH` seconds, for nodes that join). If a runner cannot
reach the driver, every job from then on gets a Ray task of its own. Through Ray Client or with TLS, there
are no runners.
"""

from __future__ import annotations

import queue
import signal
import time
from concurrent.futures import Future
from functools import partial
from types import ModuleType
from typing import Any

from hypermetric.execution.backend import OutputSink, StartSink, WaitSink
from hypermetric.execution.protocol import JobOptions, JobOutcome
from hypermetric.execution.ray_cluster import (
    PLAIN,
    alive_nodes,
    connect,
    runner_capacity,
    runner_host,
    runner_options,
    runners_usable,
    started_here,
    task_options,
    unplaceable,
)
from hypermetric.execution.ray_codec import payload, read_outcome, shared_options
from hypermetric.execution.ray_ends import WAKE, Ended, Pulled, lost_outcome, ran
from hypermetric.execution.ray_output import OutputTail
from hypermetric.execution.ray_pull import Dispatcher, RunnerLost
from hypermetric.execution.ray_task import run_runner, run_task
from hypermetric.plan.job import Job, Resources
from hypermetric.record import replace
from hypermetric.store.status import JobStatus

WAIT_LIMIT = 64   # -j up to this: `ray.wait` over the tasks in flight (some 0.05 us each); beyond, callbacks
LIMIT_REFRESH = 5.0   # seconds between looks at how many runners a joined cluster holds


class RayBackend:
    """Runs each started job in a Ray task of its own, or in a runner; see the module docstring.

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
        here = started_here(ray)
        self._task = ray.remote(max_retries=max_retries, retry_exceptions=False)(run_task)
        options = JobOptions(shell=tuple(shell), env=(("RAY_ADDRESS", self.address),),
                             lock_interval=lock_interval)
        self._options = shared_options(options, self._expected)
        self._grace = grace
        self._variants: dict[Resources, Any] = {}
        self._nodes: list[dict[str, float]] | None = None
        self._running: dict[Any, tuple[Job, int]] = {}
        self._finished: queue.SimpleQueue[tuple[Any, Future | Ended]] = queue.SimpleQueue()
        self._ended: set[Any] = set()  # refs of tasks that ended and were not settled yet
        self._refused: list[JobOutcome] = []
        self._cancelling = False
        self.reports_start = on_start is not None
        listens = on_output is not None or on_start is not None
        self._tail = OutputTail(on_output, on_start=on_start) if listens else None
        self._pull = None
        self._taken = 0   # how many ends of jobs the runners ran (or lost) `wait_any` has taken
        self._jobs, self._refresh_at = jobs, None if here else time.monotonic() + LIMIT_REFRESH
        if runners_usable(ray):
            slotted = self._owned and here
            self._runner = ray.remote(max_retries=0)(run_runner).options(**runner_options(slotted))
            try:
                self._pull = Dispatcher(self._start_runner, self._pulled_end, retries=max_retries,
                                        limit=runner_capacity(ray, jobs, slotted), host=runner_host(ray, here),
                                        fallback=self._fall_back)
            except OSError:  # no socket here (a temporary folder whose path is too long): a task per job
                self._pull = None
        # with `ray.wait`: the tasks in flight whose end `wait_any` has not seen (else None: callbacks, which
        # the runners' ends arrive with as well)
        self._pending: list[Any] | None = [] if jobs <= WAIT_LIMIT and self._pull is None else None

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
        if self._pull is not None and job.resources == PLAIN:
            key = Pulled()
            self._running[key] = (job, attempt)  # tracked first: an interrupt then leaves no job running unseen
            self._pull.put(key, payload(self._options, job, attempt, self._grace))
            return key
        return self._submit(variant, payload(self._options, job, attempt, self._grace), (job, attempt))

    def _submit(self, variant: Any, data: bytes, entry: tuple[Job, int]) -> Any:
        """Run the job `data` (`entry`: the job and its attempt) as a Ray task of its own; its ref."""
        ref = variant.remote(data)
        if self._pending is not None:
            self._pending.append(ref)
        else:
            ref.future().add_done_callback(partial(self._finish, ref))
        self._running[ref] = entry
        return ref

    def _start_runner(self, number: int) -> Any:
        """Ask Ray for runner `number` (`ray_pull`); its end reaches the dispatcher through a callback."""
        pull: Dispatcher = self._pull  # type: ignore[assignment]  # only with runners
        ref = self._runner.remote(pull.address, pull.token, number)
        ref.future().add_done_callback(partial(self._runner_ended, number))
        return ref

    def _runner_ended(self, number: int, future: Future) -> None:
        """Called by Ray (any thread) when a runner's task has ended: failed, done, or unable to reach us (then
        `wait_any` is woken to hand the queued jobs to Ray)."""
        error = future.exception()
        unreachable = future.result() if error is None else None
        if self._pull.runner_ended(number, error if isinstance(error, Exception) else None,  # type: ignore[union-attr]
                                   unreachable):
            self._finished.put((WAKE, WAKE))

    def _pulled_end(self, key: Any, data: bytes | None, error: Exception | None) -> None:
        """Called by the dispatcher (any thread) when a job it ran, or lost, has ended."""
        self._finish(key, Ended(self._ray, None, data, error))

    def _fall_back(self, key: Any, data: bytes) -> None:
        """A job the runners cannot run (they cannot reach this driver) gets a Ray task of its own."""
        self._submit(self._variant(PLAIN), data, self._running.pop(key))

    def wait_any(self, timeout: float | None = None) -> list[JobOutcome]:
        if self._pull is not None:  # the starts of this batch are made: a runner with nothing to run stops
            if self._refresh_at is not None and time.monotonic() >= self._refresh_at:
                self._refresh_at = time.monotonic() + LIMIT_REFRESH
                self._pull.set_limit(runner_capacity(self._ray, self._jobs, False))
            self._pull.between_batches(self._taken)
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
        self._taken += sum(1 for ref, _ in finished if type(ref) is Pulled)
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
            self._finish(ref, Ended(self._ray, ref))
            pending.remove(ref)

    def idle(self) -> bool:
        """Whether every task started has ended and `wait_any` has taken its outcome (an interrupt between
        the two drops it: such a task has ended, and nothing will report it again)."""
        return not self._refused and self._finished.empty() and self._ended.issuperset(self._running)

    def cancel_all(self) -> None:
        self._cancelling = True
        refs = [ref for ref in self._running if not isinstance(ref, Pulled)]
        if self._pull is not None:
            self._pull.cancel()
            refs += self._pull.refs()
        for ref in refs:
            self._ray.cancel(ref, force=True)

    def close(self) -> None:
        if self._pull is not None:
            for ref in self._pull.close():  # runners Ray has not started: on a Ray that stays up, they would
                if not self._owned:         # start for nothing
                    self._ray.cancel(ref)
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
                try:
                    variant = self._task.options(**options)
                except ValueError as e:
                    variant = f"resources Ray cannot grant: {e}"
            self._variants[res] = variant
        return variant

    def _finish(self, ref: Any, future: Future | Ended) -> None:
        """Called by Ray (any thread), or by `_wait`, when a task has ended."""
        self._ended.add(ref)
        self._finished.put((ref, future))

    def _settle(self, ref: Any, future: Future | Ended) -> JobOutcome | None:
        """The outcome of a task that ended; None for one whose end was settled already."""
        if ref not in self._ended:
            return None
        self._ended.discard(ref)
        entry = self._running.pop(ref, None)
        if entry is None:
            return None
        job, attempt = entry
        try:
            outcome = read_outcome(future.result())
        except (self._ray.exceptions.RayError, RunnerLost) as e:
            outcome = lost_outcome(self._ray, job, attempt, e, cancelling=self._cancelling,
                                   expected=self._expected)
        if self._cancelling and outcome.exit_code == 128 + signal.SIGKILL:  # killed with its worker
            outcome = replace(outcome, status=JobStatus.PENDING, reason="interrupted")
        if self._tail is not None:
            self._tail.finish(job.id, ran(outcome))
        return outcome
