"""The worker side of the Ray backend: one job through the job protocol, inside a Ray task on any node.

The job's script runs in its own process group (the protocol's `start_new_session`), so it would outlive a
Ray worker that is killed (`ray.cancel(force=True)` on Ctrl-C, a crash, the OOM killer) and race the retried
attempt. Each worker process therefore keeps one small watchdog process, started with the first job: the
worker tells it, through a pipe, the process group of every job it spawns and of every job that ends. When
the worker dies the pipe closes, and the watchdog sends SIGTERM to the groups still registered, SIGKILL after
`grace` seconds, and then removes their `.lock` files unless someone holds them again. The job's lock is a
kernel lock, so the dead worker holds it no longer: a retried attempt (Ray retries tasks whose worker or node
died) takes it, empties the directory and runs the job again.

Jobs see the worker's environment (with Ray's `CUDA_VISIBLE_DEVICES` for the task's GPUs), `RAY_ADDRESS` (the
cluster's address, from the driver) and `HYPERMETRIC_PYTHON` (this worker's Python, unless it is set).
`job.json` records the Ray node id as `node`. This module imports Ray only inside `node_id`, on a worker.
"""

from __future__ import annotations

import io
import os
import pickle
import signal
import subprocess
import sys
import threading
import time
from dataclasses import replace

from hypermetric.execution.protocol import JobHooks, JobOptions, JobOutcome, execute_job
from hypermetric.plan.job import Job
from hypermetric.store.layout import LOCK
from hypermetric.store.status import JobStatus

WATCHDOG = r"""
import fcntl, os, signal, sys, time
grace, groups = float(sys.argv[1]), {}
for line in sys.stdin.buffer:
    op, _, rest = line.rstrip(b"\n").partition(b" ")
    pgid, _, lock = rest.partition(b" ")
    if op == b"+":
        groups[int(pgid)] = lock
    else:
        groups.pop(int(pgid), None)
locks = list(groups.values())
def signal_all(sig):
    alive = {}
    for pgid, lock in groups.items():
        try:
            os.killpg(pgid, sig)
            alive[pgid] = lock
        except OSError:
            pass
    return alive
groups = signal_all(signal.SIGTERM)
deadline = time.monotonic() + grace
while groups and time.monotonic() < deadline:
    time.sleep(0.05)
    groups = signal_all(0)
signal_all(signal.SIGKILL)
for path in locks:
    try:
        fd = os.open(path, os.O_RDWR)
    except OSError:
        continue
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        if os.fstat(fd).st_ino == os.stat(path).st_ino:
            os.unlink(path)
    except OSError:
        pass
    finally:
        os.close(fd)
"""


class Watchdog:
    """A process that kills the registered process groups when this process dies (module docstring).

    It is started through a shell that exits at once, so it is no child of this worker: Ray kills the
    children of a worker that dies (bash, not the job's other processes), and the watchdog must outlive it.
    """

    def __init__(self, grace: float) -> None:
        self._grace = grace
        self._lock = threading.Lock()
        self._pipe: int | None = None

    def guard(self, pgid: int, lock: str) -> None:
        """Kill group `pgid`, then remove the unheld lock file `lock`, if this process dies first."""
        self._send(f"+ {pgid} {lock}\n".encode())

    def release(self, pgid: int) -> None:
        self._send(f"- {pgid}\n".encode())

    def _send(self, data: bytes) -> None:
        with self._lock:
            for _ in range(2):  # a watchdog that died is replaced once; without one the job runs unguarded
                try:
                    if self._pipe is None:
                        self._pipe = self._spawn()
                    os.write(self._pipe, data)
                    return
                except OSError:
                    if self._pipe is not None:
                        os.close(self._pipe)
                    self._pipe = None

    def _spawn(self) -> int:
        """Start the watchdog; the write end of its input pipe."""
        read, write = os.pipe()
        try:
            shell = subprocess.Popen(["/bin/sh", "-c", 'exec 3<&0; "$0" -I -S -c "$1" "$2" <&3 3<&- &',
                                      sys.executable, WATCHDOG, str(self._grace)], stdin=read,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     start_new_session=True)
        except OSError:
            os.close(write)
            raise
        finally:
            os.close(read)
        shell.wait()
        return write


KILL_SETTLE = 2.0
_watchdog: Watchdog | None = None
_node: str | None = None


def node_id() -> str:
    """The Ray node id of this worker (asked of Ray once per process)."""
    global _node
    if _node is None:
        import ray

        _node = ray.get_runtime_context().get_node_id()
    return _node


def worker_setup(grace: float) -> Watchdog:
    """Once per worker process, set `HYPERMETRIC_PYTHON` for the jobs and make the watchdog; returns it."""
    global _watchdog
    if _watchdog is None:
        os.environ.setdefault("HYPERMETRIC_PYTHON", sys.executable)
        _watchdog = Watchdog(grace)
    return _watchdog


class _Attempt:
    """The hooks of one job in this worker: guard its process group; outlive no dying worker."""

    def __init__(self, job: Job, guard: Watchdog) -> None:
        self._lock = os.path.join(job.workdir, LOCK)
        self._guard = guard
        self.procs: list[subprocess.Popen] = []

    def on_spawn(self, proc: object) -> None:
        self.procs.append(proc)  # type: ignore[arg-type]
        self._guard.guard(proc.pid, self._lock)  # type: ignore[attr-defined]

    def cancelled(self) -> bool:
        """Never asks to give up, but waits `KILL_SETTLE` seconds after a script killed by SIGKILL.

        A worker that Ray force-kills (Ctrl-C, `ray.cancel(force=True)`) first SIGKILLs its children, then
        exits; the wait lets it exit before this attempt records exit code 137, so an interrupted job never
        gets an `exitcode` (the watchdog then ends the rest of its process group).
        """
        if self.procs and self.procs[-1].returncode == -signal.SIGKILL:
            time.sleep(KILL_SETTLE)
        return False

    def release(self) -> None:
        for proc in self.procs:
            self._guard.release(proc.pid)


def run_on_worker(job: Job, options: JobOptions, attempt: int, grace: float = 5.0) -> JobOutcome:
    """The body of the Ray task: `execute_job` in this worker, with its process group guarded."""
    hooks = _Attempt(job, worker_setup(grace))
    try:
        options = replace(options, node=node_id(), base_env=None)
        return execute_job(job, options, None, attempt,
                           hooks=JobHooks(on_spawn=hooks.on_spawn, cancelled=hooks.cancelled))
    except Exception as e:  # a bug or an unexpected OS error ends the job, not the task (no Ray retry)
        now = time.time()
        return JobOutcome(job.id, JobStatus.FAILED, attempt, None, f"internal error: {e!r}", (), now, now)
    finally:
        hooks.release()


def payload(options: bytes, job: Job, attempt: int, grace: float) -> bytes:
    """The argument of `run_task`: `options` (pickled once by the driver) followed by the pickled job."""
    return options + pickle.dumps((job, attempt, grace), pickle.HIGHEST_PROTOCOL)


def run_task(data: bytes) -> bytes:
    """The Ray task: `run_on_worker` on a `payload`; the pickled `JobOutcome`.

    One bytes argument and a bytes result cost Ray far less to serialise than the objects themselves.
    """
    stream = io.BytesIO(data)
    options = pickle.load(stream)
    job, attempt, grace = pickle.load(stream)
    return pickle.dumps(run_on_worker(job, options, attempt, grace), pickle.HIGHEST_PROTOCOL)
