"""`LocalBackend`: jobs as child processes of this machine, one `bash` per job, run from a fixed thread pool.

Worker threads are created once (up to `jobs`) and reused, so a job costs one process spawn and no thread
start; the parent environment is read once, when the backend is made. The engine may hand over up to `jobs`
ordinary jobs more than there are workers (`queue_ahead`): a worker whose job ends takes the next one at
once, without waiting for the run's loop to hear of the end and choose it, and says when each job begins
(`on_start`). After a job fails no worker begins another until the loop has decided what the failure means:
it gives back the jobs not begun when the run stops (`withdraw`), else lets the workers go on (`go_on`).

`cancel_all` sends SIGTERM to the process group of every running job (and of any that starts while
cancelling); `grace` seconds later `wait_any` sends SIGKILL to those still there, so a job that ignores
SIGTERM cannot hold the run up. Every process a job spawns is registered with a `Watchdog`, which stops them
if this process dies without cleaning up (SIGKILL, a crash). Jobs that ask for GPUs get `CUDA_VISIBLE_DEVICES` with device indices
handed out from the machine's GPUs (`HYPERMETRIC_GPUS` overrides the count found by `nvidia-smi -L`): a job
asking for `n >= 1` gets `ceil(n)` devices of its own, the least used first; a fraction shares one device
with other fractions, packed as Ray packs them (the fullest device it still fits on), so whole devices stay
free for whole-device jobs. A job asking for at least every GPU gets them all. Jobs that ask for none keep
the parent's setting. On a machine without GPUs a job that asks for some runs alone (the scheduler finds it
bigger than the machine) and unrestricted.
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import threading
import time
from collections import deque
from functools import partial

from hypermetric.execution.ahead import Ahead
from hypermetric.execution.backend import OutputSink, StartSink, WaitSink
from hypermetric.execution.gpu_devices import detect_gpus, pick_devices
from hypermetric.execution.prepare import environment
from hypermetric.execution.process import group_alive, start_script, terminate_group
from hypermetric.execution.protocol import JobHooks, JobOptions, JobOutcome, crash_outcome, execute_job
from hypermetric.execution.staging import Staged
from hypermetric.execution.watchdog import Guard, Watchdog
from hypermetric.execution.workers import Workers
from hypermetric.plan.job import Job
from hypermetric.record import replace
from hypermetric.store.gate import can_change_dir
from hypermetric.store.layout import LOCK, SCRIPT
from hypermetric.store.status import JobStatus


class LocalBackend:
    """Runs `execute_job` for each started job in one of `jobs` worker threads."""

    def __init__(self, jobs: int = 1, *, shell: tuple[str, ...] = ("bash", "-e"),
                 on_output: OutputSink | None = None, on_wait: WaitSink | None = None,
                 lock_interval: float = 5.0, grace: float = 5.0, gpus: int | None = None,
                 on_start: StartSink | None = None) -> None:
        self._pool = Workers(jobs, "hm-job")
        # Jobs are handed over ahead only to a backend that says when each begins (the run shows a job as
        # running from then on), and not to a subclass that starts its jobs its own way (remote).
        self.reports_start = type(self).start is LocalBackend.start and on_start is not None
        self.queue_ahead = max(1, jobs) if self.reports_start else 0
        self._on_start = on_start if self.reports_start else None
        self._turn = threading.Condition()  # guards the four counts below; workers wait on it to begin a job
        self._dispatched = 0  # jobs handed to the workers so far
        self._withdrawn_below = 0  # those handed over before this (by number) and not begun are given back
        self._failures = 0  # failed jobs whose outcome the run's loop has not settled yet
        self._failures_returned = 0  # of those, the ones `wait_any` has returned (settled by the next call)
        self._options = JobOptions(shell=tuple(shell), lock_interval=lock_interval, base_env=dict(os.environ))
        self._on_output = on_output
        self._on_wait = on_wait
        self._grace = grace
        # the workers' outcomes, and the starts of the jobs they begin, in the order they happened
        self._done: queue.SimpleQueue[JobOutcome | tuple[Job, int]] = queue.SimpleQueue()
        self._held: deque[JobOutcome | tuple[Job, int]] = deque()  # taken from it, for the next `wait_any`
        self._mutex = threading.Lock()
        self._procs: dict[str, subprocess.Popen] = {}
        self._groups: set[int] = set()
        self._cancelling = threading.Event()
        self._cancelled_at = 0.0
        self._killed = False
        self._watchdog = Watchdog(grace)
        self._gpus = gpus
        self._load: list[float] | None = None
        self._assigned: dict[str, tuple[list[int], float]] = {}
        self._ahead = Ahead(self._cancelling.is_set, self._start_ahead)
        self._real: dict[str, str] = {}  # task folder -> its physical path

    def gpu_count(self) -> int:
        if self._gpus is None:
            self._gpus = detect_gpus()
        return self._gpus

    def start(self, job: Job, attempt: int) -> str:
        options = self._options
        if job.resources.gpus > 0 and self.gpu_count() > 0:
            devices = self._assign(job)
            options = replace(options, env=(("CUDA_VISIBLE_DEVICES", ",".join(map(str, devices))),))
        return self._dispatch(job, attempt, options)

    def _dispatch(self, job: Job, attempt: int, options: JobOptions) -> str:
        """Hand the job to a worker thread with its hooks: lock-wait messages, the watchdog guard, cancel."""
        on_wait = partial(self._on_wait, job) if self._on_wait is not None else None
        guard = Guard(self._watchdog, os.path.join(job.workdir, LOCK))
        hooks = JobHooks(on_spawn=partial(self._spawned, job.id, guard), on_wait=on_wait,
                         cancelled=self._cancelling.is_set, while_running=self._ahead.runner_for(job.id),
                         claim=self._ahead.claim)
        with self._turn:
            self._dispatched += 1
            number = self._dispatched
        self._pool.submit(self._work, job, attempt, options, hooks, guard, number)
        return job.id

    def withdraw(self) -> None:
        """Give back every job handed over so far that no worker has begun: each ends as `withdrawn`. Jobs
        handed over later (a service's `stop`, which runs even after a failure) are begun as usual."""
        with self._turn:
            self._withdrawn_below = self._dispatched + 1
            self._failures -= self._failures_returned  # settled: the run stopped because of them
            self._failures_returned = 0
            self._turn.notify_all()

    def go_on(self) -> None:
        """The outcomes `wait_any` returned are settled and the run goes on: workers held back by a failure
        among them may begin their next jobs."""
        if not self._failures_returned:  # (the run's loop alone changes it: no lock needed to read it here)
            return
        with self._turn:
            self._failures -= self._failures_returned
            self._failures_returned = 0
            self._turn.notify_all()

    def stage_ahead(self, job_id: str, jobs: list[Job]) -> None:
        """While job `job_id` runs, make the directories of `jobs` ahead (`ahead.Ahead`); not in a subclass
        that starts jobs its own way (the remote backend: its jobs run elsewhere)."""
        if type(self).start is LocalBackend.start:
            self._ahead.plan(job_id, jobs)

    def wait_any(self, timeout: float | None = None) -> list[JobOutcome]:
        """The outcomes of the jobs that ended since the last call (waiting up to `timeout` for one). Starts
        are told to `on_start` in their order with the ends: a call returns the ends up to the first start
        after them, which the next call tells, once the run's loop has settled those ends; so the run never
        shows more jobs running than there are workers (a worker begins its next job as it ends one)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        outcomes: list[JobOutcome] = []
        while True:
            item = self._take(None if outcomes else self._kill_overdue(_left(deadline)), block=not outcomes)
            if item is None:
                break
            if isinstance(item, JobOutcome):
                outcomes.append(item)
            elif outcomes:
                self._held.appendleft(item)
                break
            else:
                self._on_start(*item)  # type: ignore[misc]  # starts are queued only with `on_start`
        failed = 0
        for outcome in outcomes:
            self._unassign(outcome.job_id)
            failed += not outcome.ok and not outcome.withdrawn
        if failed:
            with self._turn:
                self._failures_returned += failed
        return outcomes

    def idle(self) -> bool:
        """Whether every job started has ended and its outcome has been taken by `wait_any`."""
        return self._pool.unfinished() == 0 and self._done.empty() and not self._held

    def _take(self, timeout: float | None, block: bool) -> JobOutcome | tuple[Job, int] | None:
        """The next end or start, held back by the last `wait_any` or from the workers; None if none came."""
        if self._held:
            return self._held.popleft()
        try:
            return self._done.get(timeout=timeout) if block else self._done.get_nowait()
        except queue.Empty:
            return None

    def cancel_all(self) -> None:
        with self._mutex:
            if not self._cancelling.is_set():
                self._cancelled_at = time.monotonic()
            self._cancelling.set()
            groups = [proc.pid for proc in self._procs.values()]
            self._groups.update(groups)
        for pgid in groups:
            terminate_group(pgid, signal.SIGTERM)
        with self._turn:  # a worker held back by a failure gives its job back
            self._turn.notify_all()

    def close(self) -> None:
        self._pool.shutdown()
        self._ahead.close()
        if self._groups:
            self._reap_groups()
        self._watchdog.close()

    def _kill_overdue(self, timeout: float | None) -> float | None:
        """After a cancel, SIGKILL the groups still running once `grace` has passed; how long the caller may
        then wait (`timeout`, cut short to the end of the grace)."""
        if not self._cancelling.is_set() or self._killed:
            return timeout
        left = self._cancelled_at + self._grace - time.monotonic()
        if left > 0:
            return left if timeout is None else min(timeout, left)
        with self._mutex:
            self._killed = True
            groups = list(self._groups) + [proc.pid for proc in self._procs.values()]
        for pgid in groups:
            terminate_group(pgid, signal.SIGKILL)
        return timeout

    def _start_ahead(self, job: Job, staged: Staged) -> None:
        """Start the script of a job whose folder was made ahead, behind its gate, registered with the
        watchdog (not for a job with GPUs: those get their devices when they start)."""
        options = self._options
        env = environment(options, staged.variables)
        if job.resources.gpus > 0 or not can_change_dir([*options.shell, SCRIPT], env):
            return
        guard = Guard(self._watchdog, os.path.join(job.workdir, LOCK))
        parent, case = os.path.split(job.workdir)
        real = self._real.get(parent)
        if real is None:  # once per task folder: the job directory itself is no link (it is made by a rename)
            real = self._real[parent] = os.path.realpath(parent)
        started = start_script(staged.path, options.shell, env,
                               (staged.held.fd,) if staged.held.fd is not None else (), True,
                               cd=os.path.join(real, case))
        if isinstance(started, int):  # it cannot start: the job's own start says why
            return
        try:
            guard.on_spawn(started.proc)
        except BaseException:
            started.abandon()
            raise
        staged.started, staged.guard, staged.launch = started, guard, (tuple(options.shell), env)

    def _work(self, job: Job, attempt: int, options: JobOptions, hooks: JobHooks, guard: Guard,
              number: int) -> None:
        with self._turn:
            while self._failures and number >= self._withdrawn_below and not self._cancelling.is_set():
                self._turn.wait()
            withdrawn = number < self._withdrawn_below or self._cancelling.is_set()
        if withdrawn:  # the run stopped while it waited for a worker: it never begins
            guard.release()
            self._done.put(JobOutcome(job.id, JobStatus.PENDING, attempt, reason="withdrawn", withdrawn=True))
            return
        if self._on_start is not None:
            self._done.put((job, attempt))   # told by `wait_any`, in order with the ends before it
        try:
            outcome = execute_job(job, options, self._on_output, attempt, hooks=hooks)
        except Exception as e:  # a bug or an unexpected OS error must still end the job, not the worker
            outcome = crash_outcome(job, attempt, e)
        finally:
            with self._mutex:
                self._procs.pop(job.id, None)
            guard.release()
        if not outcome.ok:
            with self._turn:
                self._failures += 1
        self._done.put(outcome)

    def _spawned(self, job_id: str, guard: Guard, proc: subprocess.Popen) -> None:
        guard.on_spawn(proc)
        with self._mutex:
            self._procs[job_id] = proc
            cancelling = self._cancelling.is_set()
            if cancelling:
                self._groups.add(proc.pid)
        if cancelling:
            terminate_group(proc.pid, signal.SIGKILL if self._killed else signal.SIGTERM)

    def _reap_groups(self) -> None:
        """Give the cancelled process groups `grace` seconds from the cancel to end, then SIGKILL them."""
        deadline = self._cancelled_at + self._grace
        while time.monotonic() < deadline and any(group_alive(g) for g in self._groups):
            time.sleep(0.05)
        for pgid in self._groups:
            terminate_group(pgid, signal.SIGKILL)
        self._groups.clear()

    def _assign(self, job: Job) -> list[int]:
        total = self.gpu_count()
        with self._mutex:
            if self._load is None:
                self._load = [0.0] * total
            devices, share = pick_devices(self._load, job.resources.gpus)
            for d in devices:
                self._load[d] += share
            self._assigned[job.id] = (devices, share)
        return devices

    def _unassign(self, job_id: str) -> None:
        with self._mutex:
            devices, share = self._assigned.pop(job_id, ([], 0.0))
            if self._load is not None:
                for d in devices:
                    self._load[d] = max(0.0, self._load[d] - share)


def _left(deadline: float | None) -> float | None:
    return None if deadline is None else max(0.0, deadline - time.monotonic())
