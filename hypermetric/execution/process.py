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
        proc = _spawn(job, shell, env, out, err, piped=on_output is not None)
        if isinstance(proc, int):
            return proc
        if hooks.on_spawn is not None:
            hooks.on_spawn(proc)
        try:
            if on_output is not None:
                _pump(job, proc, out, err, on_output)
            code = proc.wait()
        except BaseException:
            terminate_group(proc.pid, signal.SIGTERM)
            proc.wait()
            raise
    if code != 0 and cancelled():
        return None
    return 128 - code if code < 0 else code


def _spawn(job: Job, shell: tuple[str, ...], env: dict[str, str], out: BinaryIO, err: BinaryIO,
           piped: bool) -> subprocess.Popen | int:
    """Start the script in a new session (its own process group); exit code 127 if the shell cannot start."""
    try:
        stdout, stderr = (subprocess.PIPE, subprocess.PIPE) if piped else (out, err)
        return subprocess.Popen([*shell, SCRIPT], cwd=job.workdir, env=env, stdin=subprocess.DEVNULL,
                                stdout=stdout, stderr=stderr, start_new_session=True)
    except OSError as e:
        err.write(f"cannot start {shell[0] if shell else 'the shell'}: {e}\n".encode())
        return 127


def terminate_group(pgid: int, sig: int) -> None:
    """Send `sig` to the process group `pgid`, ignoring a group that is already gone."""
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _never() -> bool:
    return False


def _pump(job: Job, proc: subprocess.Popen, out: BinaryIO, err: BinaryIO,
          on_output: Callable[[Job, str, str], None]) -> None:
    """Copy both pipes to their files until EOF, passing each line (without its newline) to `on_output`."""
    sel = selectors.DefaultSelector()
    streams = {proc.stdout.fileno(): (STDOUT, out), proc.stderr.fileno(): (STDERR, err)}
    partial = {fd: b"" for fd in streams}
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
        proc.stdout.close()
        proc.stderr.close()
