"""A real signal stops a command other than `run` (which reports its own interrupt) the way it stops a run:
the command says it was interrupted and exits with 128 + the signal's number, whichever parser read its
command line: `dry-run` is read by the small parser, `results` by typer. Each is stopped while its status
pass reads a job's `exitcode`, a FIFO nobody writes to."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys

import pytest
from support.waiting import wait_until

TIMEOUT = 60.0  # bounds a failure only; nothing waits for it to pass


def _reader_waits(path) -> int | None:
    """A writing end of the FIFO `path` once the command has opened it for reading (None before): holding it
    open keeps the command waiting in its read, with nothing to read."""
    try:
        return os.open(path, os.O_WRONLY | os.O_NONBLOCK)
    except OSError as e:
        if e.errno != errno.ENXIO:  # ENXIO: nobody reads it yet
            raise
        return None


def _sleeping_in(pid: int) -> str:
    """Where process `pid` sleeps in the kernel (`/proc/PID/wchan`), or "" while it runs."""
    with open(f"/proc/{pid}/wchan") as f:
        return f.read()


@pytest.mark.parametrize("signum, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["int", "term"])
@pytest.mark.parametrize("command, blocking", [(["dry-run", "main.hm", "t"], "exitcode"),
                                               (["results", "main.hm", "t"], "exitcode")], ids=["dry-run", "results"])
def test_a_signal_stops_a_command_with_a_word_and_its_exit_code(project, signum, code, command, blocking):
    project.write("main.hm", "task t -> o:\n  echo 1 > $o\n")
    done = subprocess.run([sys.executable, "-m", "hypermetric", "run", "t", "-y"], cwd=project.root,
                          capture_output=True, text=True, timeout=TIMEOUT)
    assert done.returncode == 0, done.stderr
    fifo = project.path(f"out/t/default/{blocking}")
    fifo.unlink()
    os.mkfifo(fifo)
    stopped = subprocess.Popen([sys.executable, "-m", "hypermetric", *command], cwd=project.root,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    writers: list[int] = []
    try:
        wait_until(lambda: writers.append(fd) is None if (fd := _reader_waits(fifo)) is not None else False,
                   "the command opening the FIFO")
        # Then in its read (the kernel's name for where it sleeps says `pipe`; opening a FIFO waits elsewhere):
        # a signal that came as it returned from opening, before the read began, would be handled only once
        # the read returned, which it never does here.
        wait_until(lambda: "pipe" in _sleeping_in(stopped.pid), "the command reading the FIFO")
        stopped.send_signal(signum)
        out, err = stopped.communicate(timeout=TIMEOUT)
    finally:
        for fd in writers:
            os.close(fd)
        if stopped.poll() is None:  # a failing test: leave nothing running
            os.killpg(stopped.pid, signal.SIGKILL)
            stopped.communicate()
    assert stopped.returncode == code, out + err
    assert "Interrupted." in err and "Traceback" not in err, err
