"""Running a job's script as a child process in its own process group, with its output in `stdout`/`stderr`.

Without an output callback the child writes straight into the two files (no pipe, no extra thread). With one,
the calling thread multiplexes both pipes with a selector, writes the bytes to the files and hands each
complete line to the callback.
"""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
from collections.abc import Callable
from typing import TYPE_CHECKING, BinaryIO

from hypermetric.store.layout import SCRIPT, STDERR, STDOUT

if TYPE_CHECKING:
    from hypermetric.execution.protocol import JobHooks, OutputCallback
    from hypermetric.plan.job import Job

_CHUNK = 65536


def run_script(job: Job, shell: tuple[str, ...], env: dict[str, str], on_output: OutputCallback | None,
               hooks: JobHooks) -> int | None:
    """Run `<shell words> script` in the job directory; its exit code, or None if the run was cancelled.

    A process killed by signal N reports 128 + N. If the calling thread is interrupted (KeyboardInterrupt),
    the child's process group is terminated before the exception goes on.
    """
    cancelled = hooks.cancelled or _never
    workdir = job.workdir
    with open(os.path.join(workdir, STDOUT), "wb") as out, open(os.path.join(workdir, STDERR), "wb") as err:
        if cancelled():
            return None
        pipes = (os.pipe(), os.pipe()) if on_output is not None else None
        proc = _spawn(job, shell, env, out, err, pipes)
        if isinstance(proc, int):
            return proc
        if hooks.on_spawn is not None:
            hooks.on_spawn(proc)
        try:
            if pipes is not None:
                _pump(job, {pipes[0][0]: (STDOUT, out), pipes[1][0]: (STDERR, err)}, on_output)
            code = proc.wait()
        except BaseException:
            terminate_group(proc.pid, signal.SIGTERM)
            proc.wait()
            raise
    if code != 0 and cancelled():
        return None
    return 128 - code if code < 0 else code


def _spawn(job: Job, shell: tuple[str, ...], env: dict[str, str], out: BinaryIO, err: BinaryIO,
           pipes: tuple[tuple[int, int], tuple[int, int]] | None) -> subprocess.Popen | int:
    """Start the script in a new session (its own process group); exit code 127 if the shell cannot start.

    With `pipes` (two `(read, write)` pairs) the child writes into them; this closes their write ends, and
    their read ends too when the start fails.
    """
    stdout, stderr = (pipes[0][1], pipes[1][1]) if pipes is not None else (out, err)
    try:
        return subprocess.Popen([*shell, SCRIPT], cwd=job.workdir, env=env, stdin=subprocess.DEVNULL,
                                stdout=stdout, stderr=stderr, start_new_session=True)
    except OSError as e:
        err.write(f"cannot start {shell[0] if shell else 'the shell'}: {e}\n".encode())
        if pipes is not None:
            os.close(pipes[0][0])
            os.close(pipes[1][0])
        return 127
    finally:
        if pipes is not None:
            os.close(pipes[0][1])
            os.close(pipes[1][1])


def terminate_group(pgid: int, sig: int) -> None:
    """Send `sig` to the process group `pgid`, ignoring a group that is already gone."""
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _never() -> bool:
    return False


def _pump(job: Job, streams: dict[int, tuple[str, BinaryIO]],
          on_output: Callable[[Job, str, str], None]) -> None:
    """Copy each pipe to its file until EOF, passing each line (without its newline) to `on_output`.

    `streams` maps a pipe's read end to its stream name and file; the read ends are closed at the end.
    """
    sel = selectors.PollSelector()
    partial = dict.fromkeys(streams, b"")
    for fd in streams:
        sel.register(fd, selectors.EVENT_READ)
    try:
        while sel.get_map():
            for key, _ in sel.select():
                fd = key.fd
                name, file = streams[fd]
                data = os.read(fd, _CHUNK)
                if not data:
                    sel.unregister(fd)
                    if partial[fd]:
                        on_output(job, name, partial[fd].decode("utf-8", errors="replace"))
                    continue
                file.write(data)
                *lines, partial[fd] = (partial[fd] + data).split(b"\n")
                for line in lines:
                    on_output(job, name, line.decode("utf-8", errors="replace"))
    finally:
        sel.close()
        for fd in streams:
            os.close(fd)
