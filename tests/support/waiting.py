"""Waiting in tests on what happened, never on how long it took.

A loaded machine is slow, never wrong: a test waits for a file, a process state or an event, and its bound
only ends a test that is failing anyway, so it is generous.
"""

from __future__ import annotations

import os
import select
import time
from collections.abc import Callable

BOUND = 120.0  # seconds; reached only by a test that fails


def wait_until(predicate: Callable[[], object], what: str = "the condition", timeout: float = BOUND) -> None:
    """Poll `predicate` until it is true; fail saying `what` was awaited if `timeout` seconds pass first."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def alive(pid: int) -> bool:
    """Whether process `pid` exists and has not ended (a zombie has ended)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def wait_exited(pids: list[int], timeout: float = BOUND) -> None:
    """Wait until each process of `pids` has ended (a zombie has), on the kernel's exit notice (a pidfd turns
    readable), not by polling: the processes need not be this process's children."""
    deadline = time.monotonic() + timeout
    for pid in pids:
        try:
            fd = os.pidfd_open(pid)
        except ProcessLookupError:
            continue  # already gone
        try:
            ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        finally:
            os.close(fd)
        if not ready:
            raise AssertionError(f"process {pid} is still alive")


def read_until(stream, text: str, timeout: float = BOUND) -> str:
    """What a pipe brings until it has brought `text` (an AssertionError at EOF or timeout).

    It reads the file descriptor itself: a buffered reader could hold the text while `select` waits."""
    seen = b""
    fd = stream.fileno()
    deadline = time.monotonic() + timeout
    while text.encode() not in seen:
        ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        data = os.read(fd, 65536) if ready else b""
        if not data:
            raise AssertionError(f"never printed {text!r}; got:\n{seen.decode(errors='replace')}")
        seen += data
    return seen.decode(errors="replace")


def group_alive(pgid: int) -> bool:
    """Whether a process of process group `pgid` has not ended (zombies have, and hold no files)."""
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == pgid and fields[0] != "Z":
                return True
    return False


def waits_for_child(pid: int, child: int) -> bool:
    """Whether a thread of process `pid` is blocked in a wait for its child `child` (Linux `/proc`).

    A runner registers a job's process with whatever must stop it (its watchdog) between spawning it and
    waiting for it; once it waits, that is done, so a test may kill the runner without racing it.
    """
    try:
        threads = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return False
    for tid in threads:
        try:
            with open(f"/proc/{pid}/task/{tid}/wchan") as f:
                if f.read().strip() != "do_wait":
                    continue
            with open(f"/proc/{pid}/task/{tid}/syscall") as f:
                args = f.read().split()[1:4]
        except OSError:
            continue
        if hex(child) in args:  # wait4(pid, ...) or waitid(P_PID, pid, ...)
            return True
    return False


def rendezvous(directory: object, me: object, parties: int, timeout: float = BOUND) -> str:
    """Shell lines that mark `me` as started in `directory`, then wait until `parties` have started.

    A job that gets past them ran at the same time as the others: the proof of parallelism that a timing
    cannot give. The job fails (exit 1) if the others never come.
    """
    polls = int(timeout / 0.05)
    return (f'mkdir -p {directory}; touch {directory}/{me}; i=0\n'
            f'until [ "$(ls {directory} | wc -l)" -ge {parties} ]; do\n'
            f'  i=$((i + 1)); [ $i -le {polls} ] || exit 1; sleep 0.05\n'
            f'done\n')
