"""The job protocol: one job, start to finish, in whatever process calls it.

create the directory → check status (unless this call made the directory) → lock → re-check and empty the
directory (except `.lock`; skipped when it holds nothing else, and when this call made it and finds no
script there: see `_run_locked`), and delete a folder a dead runner made ahead for the job → link inputs →
write scripts and `args` → run `<shell> script` in its own process group (or hand it to the job's
`@@runner`, or, for `task t@fs`, to that file system's `execute`: see `fs_execute`) → kill what the script
left running in its group → write `job.json`, then `exitcode` → check outputs (with
`exists` on custom file systems) → unlock. Inputs on or for custom file systems are transferred by
`filesystems.Transfers`. `exitcode` is written only after the process has ended and never for an interrupted
run, so a failed or interrupted job never counts as done. The script inherits the open lock file, so the job
stays locked until its last process has ended, even when the process that ran it dies first.
Inputs and outputs are plain picklable data, so a remote backend can call `execute_job` on another machine.
A backend may hand over (`JobHooks.claim`) the job's directory made ahead and locked, with its inputs linked and
scripts written, and maybe its script's process waiting at its gate (`staging`): one rename replaces the steps
up to the run, and the steps after it are the same.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from datetime import datetime

from hypermetric.errors import FileSystemError, environment_error
from hypermetric.execution import process, staging
from hypermetric.execution.hooks import JobHooks, JobOptions, OutputCallback
from hypermetric.execution.prepare import environment, prepare
from hypermetric.plan.job import LOCAL, Job
from hypermetric.record import Record, setfield
from hypermetric.store import lock as store_lock
from hypermetric.store.fdio import write_file
from hypermetric.store.layout import EXITCODE, JOB_JSON, LOCK, STDERR
from hypermetric.store.status import (
    CHECK_ERROR,
    CheckErrors,
    JobStatus,
    exit_reason,
    is_complete,
    missing_outputs,
    outputs_reason,
)

STDERR_TAIL_LINES = 20


class JobOutcome(Record):
    """One attempt's end: SUCCESS, FAILED, COMPLETE (found done, not run) or PENDING (interrupted). A
    `withdrawn` attempt never began: the backend held it queued until the run stopped, so it is no attempt."""

    __slots__ = ("job_id", "status", "attempt", "exit_code", "reason", "stderr_tail", "start", "end", "withdrawn")
    job_id: str
    status: JobStatus
    attempt: int
    exit_code: int | None
    reason: str | None
    stderr_tail: tuple[str, ...]
    start: float
    end: float
    withdrawn: bool

    def __init__(self, job_id: str, status: JobStatus, attempt: int = 1, exit_code: int | None = None,
                 reason: str | None = None, stderr_tail: tuple[str, ...] = (), start: float = 0.0,
                 end: float = 0.0, withdrawn: bool = False) -> None:
        setfield(self, "job_id", job_id)
        setfield(self, "status", status)
        setfield(self, "attempt", attempt)
        setfield(self, "exit_code", exit_code)
        setfield(self, "reason", reason)
        setfield(self, "stderr_tail", stderr_tail)
        setfield(self, "start", start)
        setfield(self, "end", end)
        setfield(self, "withdrawn", withdrawn)

    @property
    def ok(self) -> bool:
        return self.status in (JobStatus.SUCCESS, JobStatus.COMPLETE)

    @property
    def interrupted(self) -> bool:
        return self.status is JobStatus.PENDING

    @property
    def duration(self) -> float:
        return max(0.0, self.end - self.start)


_NO_HOOKS = JobHooks()


def crash_outcome(job: Job, attempt: int, exc: Exception) -> JobOutcome:
    """The failed outcome of an attempt that raised `exc` instead of ending: the environment's fault (a
    read-only or full disk, a missing permission) says so and names the path; anything else is a bug."""
    fault = environment_error(exc) if isinstance(exc, OSError) else None
    reason = fault.diagnostic.message if fault is not None else f"internal error: {exc!r}"
    now = time.time()
    return JobOutcome(job.id, JobStatus.FAILED, attempt, None, reason, (), now, now)


def execute_job(job: Job, options: JobOptions = JobOptions(), on_output: OutputCallback | None = None,
                attempt: int = 1, *, hooks: JobHooks | None = None) -> JobOutcome:
    """Run `job` unless it is complete; see the module docstring for the steps."""
    hooks = hooks or _NO_HOOKS
    start = time.time()
    staged: staging.Staged | None = hooks.claim(job) if hooks.claim is not None else None
    if staged is not None:  # made ahead while the job before it ran: see `staging`
        held = staging.claim(staged, job)
        if held is not None:
            try:
                env = environment(options, staged.variables)
                started = staged.started_as(options.shell, env)
                return _run_prepared(job, options, on_output, attempt, hooks, held, env, start, started)
            finally:
                store_lock.release(held)
    # A directory this call makes holds no `exitcode`, so only one that was there can hold a finished job.
    made = _make_dir(job.workdir)
    if not made and is_complete(job):
        return JobOutcome(job.id, JobStatus.COMPLETE, attempt, 0, None, (), start, start)
    try:
        held = store_lock.acquire(os.path.join(job.workdir, LOCK), on_wait=hooks.on_wait,
                                  interval=options.lock_interval, cancelled=hooks.cancelled, make_dir=True)
    except store_lock.LockWaitCancelled:
        return JobOutcome(job.id, JobStatus.PENDING, attempt, None, "interrupted", (), start, time.time())
    try:
        staging.remove_stale(job)  # a folder made ahead for it by a runner that died
        return _run_locked(job, options, on_output, attempt, hooks, held, made and not job.file_systems)
    finally:
        store_lock.release(held)


def _run_locked(job: Job, options: JobOptions, on_output: OutputCallback | None, attempt: int,
                hooks: JobHooks, held: store_lock.Held, fresh: bool) -> JobOutcome:
    start = time.time()
    prepared: dict[str, str] | JobOutcome | None = None
    if fresh:
        # This call made the directory empty; another runner writes into it only holding the lock, first
        # the input links (which `prepare` replaces with the same) and then the script files and `args`. So
        # rather than list it, `prepare` creates those exclusively: one found there sends the job through
        # the ordinary check below.
        try:
            prepared = _prepared(job, options, hooks, attempt, start, exclusive=True)
        except FileExistsError:
            prepared = None
    if prepared is None:
        if _leftovers(job.workdir):  # else nothing but our `.lock` is there: nothing done, nothing to delete
            if is_complete(job):
                return JobOutcome(job.id, JobStatus.COMPLETE, attempt, 0, None, (), start, start)
            empty_dir(job.workdir)
        prepared = _prepared(job, options, hooks, attempt, start)
    if isinstance(prepared, JobOutcome):
        return prepared
    return _run_prepared(job, options, on_output, attempt, hooks, held, prepared, start)


def _prepared(job: Job, options: JobOptions, hooks: JobHooks, attempt: int, start: float,
              exclusive: bool = False) -> dict[str, str] | JobOutcome:
    """The script's environment, or the outcome of a job that could not be prepared; with `exclusive`, a
    `FileExistsError` goes to the caller (see `prepare`)."""
    try:
        return prepare(job, options, hooks, exclusive)
    except (OSError, FileSystemError) as e:
        if exclusive and isinstance(e, FileExistsError):
            raise
        if hooks.cancelled is not None and hooks.cancelled():
            return JobOutcome(job.id, JobStatus.PENDING, attempt, None, "interrupted", (), start, time.time())
        return JobOutcome(job.id, JobStatus.FAILED, attempt, None, f"cannot prepare the job: {e}", (), start,
                          time.time())


def _run_prepared(job: Job, options: JobOptions, on_output: OutputCallback | None, attempt: int,
                  hooks: JobHooks, held: store_lock.Held, env: dict[str, str], start: float,
                  started: process.Started | None = None) -> JobOutcome:
    if job.runner is not None:  # both import the machinery that calls shell functions: only when needed
        from hypermetric.execution.runners import run_with_runner

        code = run_with_runner(job, options.shell, env, on_output, hooks)
    elif job.exec_fs != LOCAL:
        from hypermetric.execution.fs_execute import run_on_file_system

        code = run_on_file_system(job, options.shell, on_output, hooks)
    else:
        code = _run_local(job, options, env, on_output, hooks, held, started)
    end = time.time()
    if code is None:
        return JobOutcome(job.id, JobStatus.PENDING, attempt, None, "interrupted", (), start, end)
    try:
        _record(job, options, code, attempt, start, end)
    except FileNotFoundError:  # something deleted the directory under the running job
        reason = f"the job directory {job.workdir} was deleted while the job ran"
        return JobOutcome(job.id, JobStatus.FAILED, attempt, code, reason, (), start, end)
    return _judge(job, code, attempt, start, end)


def _run_local(job: Job, options: JobOptions, env: dict[str, str], on_output: OutputCallback | None,
               hooks: JobHooks, held: store_lock.Held, started: process.Started | None) -> int | None:
    """Run the script, or let the process started ahead for it (see `staging`) through its gate."""
    if started is None:
        # The script inherits the lock: the job stays locked while any of its processes lives.
        keep = (held.fd,) if held.fd is not None else ()
        return process.run_script(job, options.shell, env, on_output, hooks, keep, hooks.while_running)
    if hooks.cancelled is not None and hooks.cancelled():
        started.abandon()
        return None
    return process.finish_script(job, started, on_output, hooks, hooks.while_running)


def _make_dir(workdir: str) -> bool:
    """Create the job directory (and its parents) unless it exists; whether this call created it."""
    try:
        os.mkdir(workdir)
    except FileExistsError:
        return False
    except FileNotFoundError:
        os.makedirs(workdir, exist_ok=True)
    return True


def _leftovers(workdir: str) -> bool:
    """Whether the job directory holds anything but `.lock`."""
    with os.scandir(workdir) as entries:
        return any(entry.name != LOCK for entry in entries)


def empty_dir(workdir: str) -> None:
    """Delete everything in the job directory but `.lock`; `exitcode` goes first, so nothing looks done."""
    try:
        os.unlink(os.path.join(workdir, EXITCODE))
    except FileNotFoundError:
        pass
    with os.scandir(workdir) as entries:
        for entry in entries:
            if entry.name == LOCK:
                continue
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path, ignore_errors=True)
            else:
                os.unlink(entry.path)


def _record(job: Job, options: JobOptions, code: int, attempt: int, start: float, end: float) -> None:
    """`job.json`, then `exitcode`, each written in place.

    `exitcode` is the commit point: a job is done only once it reads 0, and it is made after `job.json` is
    complete and closed. Until then a reader finds it missing or empty (garbled: not done), so neither file
    needs a temporary name and a rename; a run killed half-way leaves a job that is not done, whose
    directory the next run empties. The directory never holds a finished job's record here: a job runs only
    in a directory made for it or emptied, `exitcode` first (`empty_dir`)."""
    info = {
        "id": job.id, "name": job.name, "case": dict(job.full_case), "attempt": attempt, "exit_code": code,
        "start": _iso(start), "end": _iso(end), "duration_s": round(end - start, 6),
        "host": store_lock.HOST,
    }
    if options.node is not None:
        info["node"] = options.node
    if job.signature:  # what the outputs were made from, so a later plan can tell whether they are stale;
        # first, so that planning can read it without parsing the whole file
        info = {"signature": job.signature, **info, "built_from": job.built_from}
    write_file(os.path.join(job.workdir, JOB_JSON), json.dumps(info, ensure_ascii=False).encode())
    write_file(os.path.join(job.workdir, EXITCODE), str(code).encode())


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t).astimezone().isoformat(timespec="milliseconds")


def _judge(job: Job, code: int, attempt: int, start: float, end: float) -> JobOutcome:
    if code != 0:
        tail = stderr_tail(job.workdir)
        return JobOutcome(job.id, JobStatus.FAILED, attempt, code, exit_reason(code), tail, start, end)
    try:
        missing = missing_outputs(job)
    except CheckErrors:
        tail = stderr_tail(job.workdir)
        return JobOutcome(job.id, JobStatus.FAILED, attempt, code, CHECK_ERROR, tail, start, end)
    if missing:
        tail = stderr_tail(job.workdir)
        reason = outputs_reason(missing, job)
        return JobOutcome(job.id, JobStatus.FAILED, attempt, code, reason, tail, start, end)
    return JobOutcome(job.id, JobStatus.SUCCESS, attempt, 0, None, (), start, end)


def stderr_tail(workdir: str, lines: int = STDERR_TAIL_LINES) -> tuple[str, ...]:
    """The last `lines` lines of the job's `stderr` file."""
    try:
        with open(os.path.join(workdir, STDERR), "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - 64 * 1024))
            data = f.read()
    except OSError:
        return ()
    text = data.decode("utf-8", errors="replace")
    return tuple(text.splitlines()[-lines:])
