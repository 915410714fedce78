"""Running a job's script as a child process in its own process group, with its output in `stdout`/`stderr`.

Without an output callback the child writes straight into the two files (no pipe, no extra thread). With one,
the calling thread multiplexes both pipes with a selector, writes the bytes to the files and hands each
complete line to the callback.

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
import re
import selectors
import signal
import subprocess
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from hypermetric.execution.spawn import spawn, write_all
from hypermetric.store.gate import Gate
from hypermetric.store.layout import SCRIPT, STDERR, STDOUT

if TYPE_CHECKING:
    from hypermetric.execution.hooks import JobHooks, OutputCallback
    from hypermetric.plan.job import Job

_CHUNK = 65536
_LINE_END = re.compile(rb"\r\n|\n|\r")
_CR = b"\r"                # the leftover of a pipe whose last line ended with a lone `\r`
_TICK = 0.05            # how often the pump looks whether the main process has exited
_DRAIN_IDLE = 0.5       # after the group is killed: stop reading pipes only processes outside it still hold
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
    cancelled = hooks.cancelled or _never
    out = _create(os.path.join(job.workdir, STDOUT))
    try:
        err = _create(os.path.join(job.workdir, STDERR))
    except BaseException:
        os.close(out)
        raise
    try:
        if cancelled():
            return None
        pipes = (os.pipe(), os.pipe()) if on_output is not None else None
        gate = Gate() if hooks.on_spawn is not None else None
        proc = spawn(job.workdir, [*shell, SCRIPT], env, (out, err), pipes, keep_fds, gate)
        if isinstance(proc, int):
            return proc
        try:
            if hooks.on_spawn is not None and gate is not None:
                _register(proc, hooks.on_spawn, gate)
            if while_running is not None:
                while_running()
            killed = False
            if pipes is not None and on_output is not None:  # pipes are made only for a callback
                killed = _pump(job, {pipes[0][0]: (STDOUT, out), pipes[1][0]: (STDERR, err)}, on_output, proc)
            code = end_group(proc, killed)
        except BaseException:
            stop_group(proc, INTERRUPT_GRACE)
            raise
    finally:
        os.close(err)
        os.close(out)
    if cancelled():
        return None
    return 128 - code if code < 0 else code


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
    """A new empty file at `path` (emptied if there is one), opened for writing: a bare descriptor, which
    costs one system call where a Python file object costs four."""
    return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o666)


def terminate_group(pgid: int, sig: int) -> None:
    """Send `sig` to the process group `pgid`, ignoring a group that is already gone."""
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _never() -> bool:
    return False


def _pump(job: Job, streams: dict[int, tuple[str, int]],
          on_output: Callable[[Job, str, str], None], proc: subprocess.Popen) -> bool:
    """Copy each pipe to its file until EOF, passing each line (without its newline) to `on_output`.

    `streams` maps a pipe's read end to its stream name and file; the read ends are closed at the end. When
    the main process `proc` exits, the rest of its process group is killed (a background process holding a
    pipe would otherwise keep this waiting); pipes then still held by processes that left the group are let
    go once they have been idle for a moment. Whether it saw the main process exit (and killed the rest).
    """
    sel = selectors.PollSelector()
    partial = dict.fromkeys(streams, b"")
    for fd in streams:
        sel.register(fd, selectors.EVENT_READ)
    ended = False
    try:
        while sel.get_map():
            events = sel.select(_DRAIN_IDLE if ended else _TICK)
            if ended and not events:
                break
            for key, _ in events:
                _read_one(job, key.fd, streams[key.fd], partial, on_output, sel)
            if not ended and _wait_exited(proc.pid, block=False):
                ended = True
                terminate_group(proc.pid, signal.SIGKILL)
        for fd, rest in partial.items():  # pipes let go of before their EOF
            if rest not in (b"", _CR):
                on_output(job, streams[fd][0], rest.decode("utf-8", errors="replace"))
    finally:
        sel.close()
        for fd in streams:
            os.close(fd)
    return ended


def _read_one(job: Job, fd: int, stream: tuple[str, int], partial: dict[int, bytes],
              on_output: Callable[[Job, str, str], None], sel: selectors.BaseSelector) -> None:
    """Read what pipe `fd` holds into its file and hand its complete lines on; unregister it at EOF."""
    name, file = stream
    data = os.read(fd, _CHUNK)
    if not data:
        sel.unregister(fd)
        if partial[fd] not in (b"", _CR):
            on_output(job, name, partial.pop(fd).decode("utf-8", errors="replace"))
        return
    write_all(file, data)
    for line in _lines(partial, fd, data):
        on_output(job, name, line.decode("utf-8", errors="replace"))


def _lines(partial: dict[int, bytes], fd: int, data: bytes) -> list[bytes]:
    """The complete lines of what pipe `fd` has sent so far, without their newline; a line ended by a lone
    `\r` (a progress bar redrawing itself) keeps its `\r`, so a viewer can show it in place at once.

    After such a line the pipe's leftover is `_CR`, so that a `\n` arriving next (the second half of a
    `\r\n`) ends nothing more."""
    text = partial[fd]
    if text == _CR:
        text = b""
        data = data[1:] if data.startswith(b"\n") else data
    text += data
    out: list[bytes] = []
    start = 0
    for match in _LINE_END.finditer(text):
        cr = match.group() == b"\r"
        out.append(text[start:match.start()] + (b"\r" if cr else b""))
        start = match.end()
    partial[fd] = _CR if out and start == len(text) and out[-1].endswith(b"\r") else text[start:]
    return out
