"""Running a job on the file system named by `task t@fs`, through that file system's `execute(command)`.

The job keeps its local directory: status, the lock, `job.json` and `exitcode` live there, so the job protocol
(status check, lock, re-check, record, unlock) is the same as for a local job. On the file system, the job's
directory `<fs root>/<job path>` is created and the inputs are placed there before this module runs (inputs
of a task on `fs` are expected on `fs` unless they say otherwise). This module then uploads the script
layers and `args` there, and calls `execute` with one shell command that, in that directory, exports the
variables of `args`, runs `<shell> script` with its output in `stdout` and `stderr` and writes its exit
status to `exitcode`. Those three files are downloaded into the local job directory, so status, failure
panels and `results` read them as for a local job; outputs are checked on the file system with `exists`.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Sequence
from typing import TYPE_CHECKING

from hypermetric.errors import FileSystemError
from hypermetric.plan.job import FileSystemSpec, Job
from hypermetric.store.fscall import CallResult, fs_call
from hypermetric.store.layout import ARGS, SCRIPT, STDERR, STDOUT, wrapped_script

if TYPE_CHECKING:
    from hypermetric.execution.hooks import JobHooks, OutputCallback

_REMOTE_EXITCODE = ".exitcode.remote"  # downloaded under another name: `exitcode` is the commit point


def run_on_file_system(job: Job, shell: Sequence[str], on_output: OutputCallback | None,
                       hooks: JobHooks) -> int | None:
    """The job's exit code as it ran through `execute`; None when the run was cancelled."""
    call = _Calls(job.file_system(job.exec_fs), tuple(shell), hooks)
    try:
        code = _run(job, call)
    except FileSystemError as e:
        _note(job, str(e))
        code = 1
    if hooks.cancelled is not None and hooks.cancelled():
        return None
    _replay(job, on_output)
    return code


def _run(job: Job, call: _Calls) -> int:
    call("mkdir", job.relpath)
    for name in [wrapped_script(level) for level in range(len(job.decorators))] + [SCRIPT, ARGS]:
        call("upload", call.local(os.path.join(job.workdir, name)), f"{job.relpath}/{name}")
    executed = call("execute", remote_command(job, call.spec, call.shell), check=False)
    for name in (STDOUT, STDERR):
        call("download", f"{job.relpath}/{name}", call.local(os.path.join(job.workdir, name)), check=False)
    local_code = os.path.join(job.workdir, _REMOTE_EXITCODE)
    call("download", f"{job.relpath}/exitcode", call.local(local_code), check=False)
    try:
        with open(local_code) as f:
            text = f.read().strip()
        os.unlink(local_code)
        return int(text)
    except (OSError, ValueError):
        detail = next((ln.strip() for ln in reversed(executed.stderr.splitlines()) if ln.strip()), "")
        raise FileSystemError(f"{call.spec.name}.execute ran no job script (exit code {executed.code})"
                              + (f": {detail}" if detail else "")) from None


def remote_command(job: Job, spec: FileSystemSpec, shell: Sequence[str]) -> str:
    """The command handed to `execute`: in the job's directory on the file system, export the job's
    variables and run its script, leaving `stdout`, `stderr` and `exitcode` there. The directory is
    absolute when the root is; otherwise it is relative to where `execute` starts (the root, by the
    convention of HyperMake's file systems)."""
    root = spec.root.rstrip("/")
    where = f"{root}/{job.relpath}" if root.startswith("/") else job.relpath
    run = shlex.join(shell) + " " + SCRIPT
    return (f"cd {shlex.quote(where)} && rm -f exitcode && set -a && . ./{ARGS} && set +a"
            f" && export HYPERMAKE_JOB_WD={shlex.quote(where)}"
            f" && {{ {run} > {STDOUT} 2> {STDERR} && echo 0 > exitcode || echo $? > exitcode; }}")


class _Calls:
    """Calls the file system's functions for one job, with the run's shell and spawn hook."""

    def __init__(self, spec: FileSystemSpec, shell: tuple[str, ...], hooks: JobHooks) -> None:
        self.spec, self.shell, self.hooks = spec, shell, hooks

    def __call__(self, op: str, *args: str, check: bool = True) -> CallResult:
        return fs_call(self.spec, op, *args, shell=self.shell, check=check, on_spawn=self.hooks.on_spawn)

    def local(self, path: str) -> str:
        """A local path as upload and download see it: relative to the local root (their cwd) if inside."""
        root = self.spec.local_root
        return os.path.relpath(path, root) if root and path.startswith(root + os.sep) else path


def _replay(job: Job, on_output: OutputCallback | None) -> None:
    """Hand the lines the job printed on the file system to the output callback, as a local job's are."""
    if on_output is None:
        return
    for name in (STDOUT, STDERR):
        try:
            with open(os.path.join(job.workdir, name), "rb") as f:
                text = f.read().decode("utf-8", errors="replace")
        except OSError:
            continue
        for line in text.splitlines():
            on_output(job, name, line)


def _note(job: Job, message: str) -> None:
    """Append a line to the job's local `stderr`."""
    with open(os.path.join(job.workdir, STDERR), "a") as f:
        f.write(message + "\n")
