"""Running a job's script as a child process in its own process group, with its output in `stdout`/`stderr`.

The child writes straight into the two files, whether or not someone takes its output lines; with an output
callback, the thread that waits for it reads the lines back from the files as they come (`follow`).

A job is its script's main process: once that has exited, whatever it left running in its process group is
killed before the job is judged, so no background process can write to an output after the job is recorded
(or after a consumer has read it). The group is killed while the main process is still a zombie, so its id
cannot have been reused. The script inherits the job's open lock file (`keep_fds`): the lock stays held while
any process of the job lives, so no other run can start the job beside a survivor. A script whose process is
handed to an `on_spawn` hook (a backend registering it with its watchdog) starts behind a `store.gate.Gate`
and runs only once the hook has returned, so it never runs unguarded.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from hypermetric.execution.follow import Follower, wait_exited
from hypermetric.execution.spawn import spawn
from hypermetric.store.gate import Gate
from hypermetric.store.layout import SCRIPT, STDERR, STDOUT

if TYPE_CHECKING:
    from hypermetric.execution.hooks import JobHooks, OutputCallback
    from hypermetric.plan.job import Job

INTERRUPT_GRACE = 5.0   # seconds between SIGTERM and SIGKILL when the calling thread is interrupted
_DEATH_WAIT = 5.0       # at most this long for killed processes to die (one stuck in the kernel may not)


def run_script(job: Job, shell: tuple[str, ...], env: dict[str, str], on_output: OutputCallback | None,
               hooks: JobHooks, keep_fds: tuple[int, ...] = (),
               while_running: Callable[[], None] | None = None) -> int | None:
    """Run `<shell words> script` in the job directory; its exit code, or None if the run was cancelled.

    A process killed by signal N reports 128 + N. A cancelled run is None whatever its exit code, so an
    interrupted job is never recorded. If the calling thread is interrupted (KeyboardInterrupt), the child's
    process group is stopped before the exception goes on. The open files of `keep_fds` stay open in the
    child (not necessarily under the same numbers).
    `while_running` is called once the script runs, for work that can overlap with it.
    """
    if hooks.cancelled is not None and hooks.cancelled():
        return None
    started = start_script(job.workdir, shell, env, keep_fds, hooks.on_spawn is not None)
    if isinstance(started, int):
        return started
    return finish_script(job, started, on_output, hooks, while_running)


class Started:
    """A script's process, started (behind its gate when it has one), with its output files."""

    __slots__ = ("proc", "gate", "out", "err")

    def __init__(self, proc: subprocess.Popen, gate: Gate | None, out: int, err: int) -> None:
        self.proc, self.gate, self.out, self.err = proc, gate, out, err

    def abandon(self) -> None:
        """Close the gate unopened (the child exits without running anything), reap it, close the files."""
        try:
            if self.gate is None:  # it runs already: stop it
                stop_group(self.proc, INTERRUPT_GRACE)
            else:
                self.gate.close()
                end_group(self.proc)
        finally:
            self.close()

    def close(self) -> None:
        os.close(self.out)
        os.close(self.err)


def start_script(folder: str, shell: tuple[str, ...], env: dict[str, str], keep_fds: tuple[int, ...],
                 gated: bool, cd: str | None = None) -> Started | int:
    """Start `<shell words> script` with its output in `folder`'s `stdout`/`stderr` and, when `gated`, behind
    a gate; in `folder`, or, with `cd`, in `folder` and then, once through the gate, in directory `cd` (which
    `folder` has become by then: see `staging`). The exit code when it cannot start."""
    out = _create(os.path.join(folder, STDOUT))
    try:
        err = _create(os.path.join(folder, STDERR))
    except BaseException:
        os.close(out)
        raise
    try:
        gate = Gate(cd) if gated else None
        proc = spawn(os.path.dirname(folder) if cd else folder, [*shell, SCRIPT], env, (out, err), keep_fds, gate)
    except BaseException:
        os.close(err)
        os.close(out)
        raise
    if isinstance(proc, int):
        os.close(err)
        os.close(out)
        return proc
    return Started(proc, gate, out, err)


def finish_script(job: Job, started: Started, on_output: OutputCallback | None, hooks: JobHooks,
                  while_running: Callable[[], None] | None = None) -> int | None:
    """Let a started script run (`run_script`), wait for it and its process group, handing its output lines
    to `on_output` as they come (`follow`); its exit code."""
    cancelled = hooks.cancelled or _never
    proc = started.proc
    try:
        try:
            if started.gate is not None:
                _register(proc, hooks.on_spawn or _ignore, started.gate)
            if while_running is not None:
                while_running()
            follower = None
            if on_output is not None:
                follower = Follower(job, ((STDOUT, started.out), (STDERR, started.err)), on_output)
                wait_exited(proc.pid, lambda: _wait_exited(proc.pid, block=False), follower.read)
            code = end_group(proc)
            if follower is not None:  # the whole group has ended: nothing writes to the files any more
                follower.read(final=True)
        except BaseException:
            stop_group(proc, INTERRUPT_GRACE)
            raise
    finally:
        started.close()
    if cancelled():
        return None
    return 128 - code if code < 0 else code


def _ignore(proc: object) -> None:
    pass


def _register(proc: subprocess.Popen, on_spawn: Callable[[object], None], gate: Gate) -> None:
    """Hand the new process to `on_spawn` (which registers its group with the watchdog), then let it run its
    command; if `on_spawn` fails the gate is closed, so the command never runs unguarded."""
    try:
        on_spawn(proc)
    except BaseException:
        gate.close()
        raise
    gate.open()


def end_group(proc: subprocess.Popen, killed: bool = False) -> int:
    """Wait for the main process to exit, SIGKILL what is left of its process group (unless the caller saw
    it exit and did so: `killed`), reap it, and wait until the rest has died too (a SIGKILL takes effect a
    moment after it is sent); its exit status."""
    if not killed:
        _wait_exited(proc.pid, block=True)
        terminate_group(proc.pid, signal.SIGKILL)
    code = proc.wait()
    deadline = time.monotonic() + _DEATH_WAIT
    while group_alive(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.01)
    return code


def group_alive(pgid: int) -> bool:
    """Whether a process of group `pgid` still runs (zombies, which have ended, do not count)."""
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    try:
        names = os.listdir("/proc")
    except OSError:  # no /proc: every member counts
        return True
    return any(_running_member(name, pgid) for name in names if name.isdigit())


def _running_member(pid: str, pgid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
    except OSError:
        return False
    return int(fields[2]) == pgid and fields[0] != b"Z"


def stop_group(proc: subprocess.Popen, grace: float) -> None:
    """SIGTERM the process group, SIGKILL it once the main process has exited or after `grace` seconds."""
    terminate_group(proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while not _wait_exited(proc.pid, block=False) and time.monotonic() < deadline:
        time.sleep(0.05)
    terminate_group(proc.pid, signal.SIGKILL)
    end_group(proc)


def _wait_exited(pid: int, *, block: bool) -> bool:
    """Whether child `pid` has exited, without reaping it (a zombie keeps its process group id taken)."""
    flags = os.WEXITED | os.WNOWAIT | (0 if block else os.WNOHANG)
    try:
        return os.waitid(os.P_PID, pid, flags) is not None
    except ChildProcessError:  # reaped already
        return True


def _create(path: str) -> int:
    """A new empty file at `path` (emptied if there is one), opened for writing, and for reading it back
    (`follow`): a bare descriptor, which costs one system call where a Python file object costs four."""
    return os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o666)


def terminate_group(pgid: int, sig: int) -> None:
    """Send `sig` to the process group `pgid`, ignoring a group that is already gone."""
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _never() -> bool:
    return False
