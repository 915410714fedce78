"""The worker side of the Ray backend: one job through the job protocol, inside a Ray task on any node.

The job's script runs in its own process group (the protocol's `start_new_session`), so it would outlive a
Ray worker that is killed (`ray.cancel(force=True)` on Ctrl-C, a crash, the OOM killer) and race the retried
attempt. Each worker process therefore keeps one `Watchdog` (see `watchdog`), started with the first job,
which stops the groups of the worker's jobs when the worker dies and then removes their `.lock` files. Until
then the job's processes hold its lock (they inherit the lock file), so a retried attempt (Ray retries tasks
whose worker or node died) waits for them to end, then takes the lock, empties the directory and runs the job
again.

Jobs see the worker's environment (with Ray's `CUDA_VISIBLE_DEVICES` for the task's GPUs), `RAY_ADDRESS` (the
cluster's address, from the driver) and `HYPERMETRIC_PYTHON` (this worker's Python, unless it is set).
`job.json` records the Ray node id as `node`. A job sent without the package shipped runs only on a worker
whose package has the driver's fingerprint (`ray_package`). This module imports Ray only inside `node_id` and
`ray_package.forget`, on a worker.
"""

from __future__ import annotations

import os
import pickle
import signal
import subprocess
import sys
import time

from hypermetric.execution import ray_package, ray_runner
from hypermetric.execution.protocol import JobHooks, JobOptions, JobOutcome, crash_outcome, execute_job
from hypermetric.execution.ray_codec import outcome_bytes, unpack
from hypermetric.execution.watchdog import Guard, Watchdog
from hypermetric.plan.job import Job
from hypermetric.record import replace
from hypermetric.store.layout import LOCK
from hypermetric.store.status import JobStatus

KILL_SETTLE = 2.0
_watchdog: Watchdog | None = None
_node: str | None = None
_local: tuple[JobOptions, JobOptions] | None = None   # options as sent, and as this worker runs them


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


class _Attempt(Guard):
    """The hooks of one job in this worker: guard its process groups; outlive no dying worker."""

    def __init__(self, job: Job, watchdog: Watchdog) -> None:
        super().__init__(watchdog, os.path.join(job.workdir, LOCK))
        self.procs: list[subprocess.Popen] = []

    def on_spawn(self, proc: object) -> None:
        self.procs.append(proc)  # type: ignore[arg-type]  # the hook always receives a Popen here
        super().on_spawn(proc)

    def cancelled(self) -> bool:
        """Never asks to give up, but waits `KILL_SETTLE` seconds after a script killed by SIGKILL.

        A worker that Ray force-kills (Ctrl-C, `ray.cancel(force=True)`) first SIGKILLs its children, then
        exits; the wait lets it exit before this attempt records exit code 137, so an interrupted job never
        gets an `exitcode` (the watchdog then ends the rest of its process group).
        """
        if self.procs and self.procs[-1].returncode == -signal.SIGKILL:
            time.sleep(KILL_SETTLE)
        return False


def run_on_worker(job: Job, options: JobOptions, attempt: int, grace: float = 5.0) -> JobOutcome:
    """The body of the Ray task: `execute_job` in this worker, with its process group guarded."""
    hooks = _Attempt(job, worker_setup(grace))
    try:
        return execute_job(job, _on_this_worker(options), None, attempt,
                           hooks=JobHooks(on_spawn=hooks.on_spawn, cancelled=hooks.cancelled))
    except Exception as e:  # a bug or an unexpected OS error ends the job, not the task (no Ray retry)
        return crash_outcome(job, attempt, e)
    finally:
        hooks.release()


def _on_this_worker(options: JobOptions) -> JobOptions:
    """`options` with this worker's node and environment; made once for the options every job of a run
    shares (`run_task` hands the same object to each)."""
    global _local
    if _local is None or _local[0] is not options:
        _local = (options, replace(options, node=node_id(), base_env=None))
    return _local[1]


def run_task(data: bytes) -> bytes:
    """The Ray task: `run_on_worker` on a `ray_codec.payload`; its outcome as `ray_codec.outcome_bytes`, or,
    from a worker whose package is not the driver's, the pickled `JobOutcome` itself (which any version of
    the driver reads)."""
    task = unpack(data)
    if task.expected is not None and task.expected != ray_package.fingerprint():
        return pickle.dumps(foreign_package(task.job_id, task.attempt, task.expected), pickle.HIGHEST_PROTOCOL)
    return outcome_bytes(run_on_worker(task.job(), task.options, task.attempt, task.grace))


def run_runner(address: ray_runner.Address, token: bytes, number: int) -> str | None:
    """The Ray task of a runner (`ray_pull`): `run_task` on each job the driver at `address` sends, until it
    says stop; or why it could not reach the driver."""
    return ray_runner.serve_jobs(address, token, number, run_task)


def foreign_package(job_id: str, attempt: int, expected: str) -> JobOutcome:
    """The failed outcome of a job sent to a worker whose hypermetric package is not the driver's: the job
    does not run, and the cluster forgets that its workers have the driver's package (so it is asked again)."""
    ray_package.forget(expected)
    now = time.time()
    reason = (f"the hypermetric package of this Ray worker ({sys.executable}) is not the one that started the "
              "run (another copy, or its files changed meanwhile), so the job did not run; run again: the "
              "next run checks the cluster again and ships the package if its workers still differ")
    return JobOutcome(job_id, JobStatus.FAILED, attempt, None, reason, (), now, now)
