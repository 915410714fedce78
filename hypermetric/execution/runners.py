"""Running a job through its `@@runner`: submit, poll until it reports an exit status, or cancel.

`submit(script_file)` (HyperMake's form) or `submit(script_file, wd)` starts `<wd>/script` and may print
a job id (its last non-empty line; none is an empty id); `poll(job_id)` prints nothing while the job runs
and its exit status once it has ended; `cancel(job_id)` (or `kill`) stops it. Every function runs in the job's
directory, so the relative `stdout`, `stderr`, `exitcode` or `pid` files of HyperMake's runner examples land
there; each runs like a file-system operation, with the job's whole environment underneath, so the runner
can hand it to the job. The runner leaves `stdout` and `stderr` in the job directory; while polling, their
new complete lines go to the output callback. A runner function that cannot even be started fails the job.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from hypermetric.errors import FileSystemError
from hypermetric.execution.output_lines import LineSplitter, decode
from hypermetric.plan.job import Job, RunnerSpec, ShellFunction
from hypermetric.store.fscall import CallResult, call_function, failure_message
from hypermetric.store.layout import SCRIPT, STDERR, STDOUT

if TYPE_CHECKING:
    from hypermetric.execution.hooks import JobHooks, OutputCallback

_TICK = 0.05


def run_with_runner(job: Job, shell: Sequence[str], env: dict[str, str], on_output: OutputCallback | None,
                    hooks: JobHooks) -> int | None:
    """The job's exit code as the runner reports it, or None when the run was cancelled."""
    runner = job.runner
    assert runner is not None
    cancelled = hooks.cancelled or _never
    for name in (STDOUT, STDERR):
        open(os.path.join(job.workdir, name), "wb").close()
    if cancelled():
        return None
    call = _Caller(runner, shell, env, job.workdir)
    try:
        return _submit_and_wait(job, call, cancelled, on_output)
    except FileSystemError as e:
        _note(job, str(e))
        return 1


def _submit_and_wait(job: Job, call: _Caller, cancelled: Callable[[], bool],
                     on_output: OutputCallback | None) -> int | None:
    runner = call.runner
    submit = call.function("submit")
    assert submit is not None  # checked when the pipeline was loaded
    args = (os.path.join(job.workdir, SCRIPT), job.workdir)[:_required(submit)]
    submitted = call("submit", *args)
    if submitted.code != 0:
        _note(job, failure_message(runner.name, "submit", args, submitted))
        return submitted.code
    handle = next((line.strip() for line in reversed(submitted.stdout.splitlines()) if line.strip()), "")
    tail = _Tail(job, on_output)
    try:
        return _wait(call, handle, runner.refresh_interval, cancelled, tail)
    except BaseException:
        call.cancel(handle)
        raise
    finally:
        tail.flush()


def _required(func: ShellFunction) -> int:
    """How many arguments `func` takes: its parameters without a default."""
    defaults = dict(func.defaults)
    return sum(1 for p in func.params if p not in defaults)


def _wait(call: _Caller, handle: str, interval: float, cancelled: Callable[[], bool],
          tail: _Tail) -> int | None:
    """Poll at once, then every `interval` seconds, until the runner reports an exit status; None once
    cancelled. (A `submit` may return only when the job has ended, as HyperMake's `popen` example does.)"""
    first = True
    while True:
        deadline = time.monotonic() + (0.0 if first else interval)
        first = False
        while time.monotonic() < deadline:
            if cancelled():
                call.cancel(handle)
                return None
            time.sleep(min(_TICK, max(0.0, deadline - time.monotonic())))
        if cancelled():
            call.cancel(handle)
            return None
        polled = call("poll", handle)
        tail.read()
        if polled.code != 0:
            _note(tail.job, failure_message(call.runner.name, "poll", (handle,), polled))
            return 1
        text = polled.stdout.strip()
        if text:
            try:
                return int(text.split()[-1])
            except ValueError:
                return -1


class _Caller:
    """Calls the runner's functions in the job's directory, with the job's environment."""

    def __init__(self, runner: RunnerSpec, shell: Sequence[str], env: dict[str, str], workdir: str) -> None:
        self.runner, self.shell, self.env, self.workdir = runner, tuple(shell), env, workdir

    def __call__(self, op: str, *args: str) -> CallResult:
        func = self.function(op)
        if func is None:
            raise FileSystemError(f"runner `{self.runner.name}` has no function `{op}`")
        return call_function(self.runner.name, func, args, variables=self.runner.variables,
                             cwd=self.workdir, shell=self.shell, env=self.env)

    def function(self, op: str) -> ShellFunction | None:
        return self.runner.function(op)

    def cancel(self, handle: str) -> None:
        """`cancel(handle)`, or `kill(handle)` (HM's name); nothing if the runner has neither."""
        op = "cancel" if self.function("cancel") is not None else "kill"
        if self.function(op) is not None:
            self(op, handle)


class _Tail:
    """Hands the lines the runner appended to `stdout`/`stderr` since the last read on (cut as
    `output_lines` says)."""

    def __init__(self, job: Job, on_output: OutputCallback | None) -> None:
        self.job, self.on_output = job, on_output
        self.offsets = {STDOUT: 0, STDERR: 0}
        self.splitters = {STDOUT: LineSplitter(), STDERR: LineSplitter()}

    def read(self) -> None:
        if self.on_output is None:
            return
        for name in (STDOUT, STDERR):
            try:
                with open(os.path.join(self.job.workdir, name), "rb") as f:
                    f.seek(self.offsets[name])
                    data = f.read()
            except OSError:
                continue
            self.offsets[name] += len(data)
            for line in self.splitters[name].feed(data):
                self.on_output(self.job, name, decode(line))

    def flush(self) -> None:
        self.read()
        if self.on_output is not None:
            for name, splitter in self.splitters.items():
                rest = splitter.rest()
                if rest:
                    self.on_output(self.job, name, decode(rest))


def _note(job: Job, message: str) -> None:
    """Append a line to the job's `stderr`."""
    with open(os.path.join(job.workdir, STDERR), "a") as f:
        f.write(message + "\n")


def _never() -> bool:
    return False
