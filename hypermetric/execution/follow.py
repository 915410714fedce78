"""Handing a running job's output on line by line, read back from its `stdout`/`stderr` files.

The script writes straight into its two files, whether or not someone takes the lines: it never waits for this
process (a pipe would hold it up whenever the runner reads more slowly than the script writes), and its output
is the same kind of file either way. The thread that waits for the script reads what the files have gained
whenever it wakes: at most `TICK` seconds apart while the script runs, and once more after it has ended and the
rest of its process group is dead, when the last line is handed on even without its end. The lines are cut as
`output_lines` says (a lone `\\r` ends one too: a progress bar redrawing itself, handed on at once).

The wait is on a process file descriptor (`pidfd_open`, Linux 5.3), which becomes readable when the process
exits; where there is none, the thread looks whether the process has exited, 1 ms after the start and then
ever less often, up to `TICK`.
"""

from __future__ import annotations

import os
import select
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from hypermetric.execution.output_lines import LineSplitter, decode

if TYPE_CHECKING:
    from hypermetric.plan.job import Job

TICK = 0.05             # seconds between two reads of a running script's files
_CHUNK = 65536


class Follower:
    """The lines of a job's streams (`(name, descriptor open for reading)` pairs) not handed on yet."""

    def __init__(self, job: Job, streams: Sequence[tuple[str, int]],
                 on_output: Callable[[Job, str, str], None]) -> None:
        self._job, self._on_output = job, on_output
        self._streams = tuple(streams)
        self._offsets = [0] * len(self._streams)
        self._splitters = [LineSplitter() for _ in self._streams]

    def read(self, final: bool = False) -> None:
        """Hand on each complete line the files have gained; with `final`, the unfinished last ones too."""
        for index, (name, fd) in enumerate(self._streams):
            splitter = self._splitters[index]
            while True:  # a block at a time: a script may have written much since the last look
                try:
                    data = os.pread(fd, _CHUNK, self._offsets[index])
                except OSError:  # unreadable now (a file system error): what it holds is still in the file
                    break
                self._offsets[index] += len(data)
                for line in splitter.feed(data) if data else ():
                    self._on_output(self._job, name, decode(line))
                if len(data) < _CHUNK:
                    break
            if final:
                rest = splitter.rest()
                if rest:
                    self._on_output(self._job, name, decode(rest))


def wait_exited(pid: int, exited: Callable[[], bool], every_tick: Callable[[], None]) -> None:
    """Return once child `pid` has exited (`exited()` says whether it has, without reaping it), calling
    `every_tick` at most `TICK` seconds apart meanwhile."""
    try:
        pidfd = os.pidfd_open(pid)
    except (AttributeError, OSError):  # no process descriptors here (not Linux, or before 5.3)
        _poll_exited(exited, every_tick)
        return
    try:
        poller = select.poll()
        poller.register(pidfd, select.POLLIN)
        while not poller.poll(TICK * 1000):
            every_tick()
    finally:
        os.close(pidfd)


def _poll_exited(exited: Callable[[], bool], every_tick: Callable[[], None]) -> None:
    pause, waited = 0.001, 0.0
    while not exited():
        time.sleep(pause)
        waited += pause
        if waited >= TICK:
            every_tick()
            waited = 0.0
        pause = min(2 * pause, TICK)
