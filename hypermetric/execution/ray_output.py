"""`OutputTail`: when Ray jobs really start, and their output lines, read back from their `stdout`/`stderr`.

A Ray job writes its output into its directory, which is on storage the driver sees too (the output root must
be shared), so the driver tails the two files instead of shipping lines through Ray: one thread polls the
files of every job in flight every `interval` seconds (plus a millisecond per such job, at most 2 s, so that
sweeping a thousand queued jobs stays cheap), and `finish` reads what is left (the last line even without
its newline) before the engine hears that the job ended. A file that already existed when the job
was submitted, unchanged since (same inode and modification time), is an earlier run's and is not read; a
file that is replaced (a retried attempt) is read again from its start.

The same files say when a job starts: Ray queues a task until a worker with its resources is free, and the
job protocol creates a fresh `stdout` just before it spawns the script, so a fresh `stdout` is the moment
the job goes from queued to running (`on_start`). A job that ends without one (refused, found complete, or
failed before its script ran) never started; one that starts and ends between two sweeps is reported as
started by `finish`, before its output and its end. Where the caller knows from the job's outcome whether
its script ran (`finish`'s `ran`), `finish` does not look at the file for that; and with nobody taking the
lines, `stderr` is never looked at, so a job of a silent run costs the driver one `stat` (in `watch`).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from hypermetric.execution.output_lines import LineSplitter, decode
from hypermetric.plan.job import Job
from hypermetric.store.layout import STDERR, STDOUT

OutputSink = Callable[[Job, str, str], None]
StartSink = Callable[[Job, int], None]
_PER_JOB = 0.001   # seconds added to the polling interval per watched job: many jobs, fewer sweeps
_SLOWEST = 2.0


@dataclass
class _Stream:
    """One file of one job: the stale file's identity, the file being read and how far."""

    name: str
    path: str
    stale: tuple[int, int] | None
    ino: int | None = None
    offset: int = 0
    lines: LineSplitter = field(default_factory=LineSplitter)

    def fresh(self) -> bool:
        """Whether the file exists and is not the earlier run's: this attempt has created it."""
        identity = _identity(self.path)
        return identity is not None and identity != self.stale

    def read(self, final: bool) -> list[str]:
        """The lines written since the last read, cut as `output_lines` says (and the unfinished one when
        `final`)."""
        data = self._new_bytes()
        lines = self.lines.feed(data) if data else []
        if final:
            rest = self.lines.rest()
            if rest:
                lines.append(rest)
        return [decode(line) for line in lines]

    def _new_bytes(self) -> bytes:
        try:
            st = os.stat(self.path)
            if (st.st_ino, st.st_mtime_ns) == self.stale:
                return b""
            if st.st_ino != self.ino or st.st_size < self.offset:
                self.ino, self.offset, self.lines = st.st_ino, 0, LineSplitter()
            if st.st_size == self.offset:
                return b""
            with open(self.path, "rb") as f:
                f.seek(self.offset)
                data = f.read(st.st_size - self.offset)
        except OSError:
            return b""
        self.offset += len(data)
        return data


def _identity(path: str) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_ino, st.st_mtime_ns


@dataclass
class _Watched:
    """One attempt of one job in flight: its two streams, and whether its start has been reported."""

    job: Job
    attempt: int
    streams: tuple[_Stream, ...]   # `stdout` first; `stderr` only when someone takes the lines
    started: bool = False


class OutputTail:
    """Passes the start of each watched job to `on_start(job, attempt)` and its output lines to
    `sink(job, stream, line)` (either may be None); see the module docstring."""

    def __init__(self, sink: OutputSink | None, interval: float = 0.25, *,
                 on_start: StartSink | None = None) -> None:
        self._sink = sink
        self._on_start = on_start
        self._interval = interval
        self._jobs: dict[str, _Watched] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def watch(self, job: Job, attempt: int = 1) -> None:
        """Start tailing `job` (call before the job can start writing)."""
        names = (STDOUT, STDERR) if self._sink is not None else (STDOUT,)
        streams = tuple(_Stream(name, path, _identity(path))
                        for name, path in ((name, os.path.join(job.workdir, name)) for name in names))
        with self._lock:
            self._jobs[job.id] = _Watched(job, attempt, streams)
            if self._thread is None:
                self._thread = threading.Thread(target=self._poll, name="hm-ray-output", daemon=True)
                self._thread.start()

    def finish(self, job_id: str, ran: bool | None = None) -> None:
        """Pass on the rest of the job's output and stop watching it. `ran`: whether the attempt ran its
        script, where its outcome says so for certain (None: the files tell)."""
        with self._lock:
            entry = self._jobs.pop(job_id, None)
            if entry is not None:
                self._read(entry, final=True, ran=ran)

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _poll(self) -> None:
        pause = self._interval
        while not self._stop.wait(pause):
            with self._lock:
                for entry in list(self._jobs.values()):
                    self._read(entry, final=False)
                pause = min(self._interval + _PER_JOB * len(self._jobs), _SLOWEST)

    def _read(self, entry: _Watched, final: bool, ran: bool | None = None) -> None:
        if not entry.started:
            # `stdout` is created first (before `stderr`, and before the script is spawned)
            if not (entry.streams[0].fresh() if ran is None else ran):
                return
            entry.started = True
            if self._on_start is not None:
                self._on_start(entry.job, entry.attempt)
        if self._sink is None:
            return
        for stream in entry.streams:
            for line in stream.read(final):
                self._sink(entry.job, stream.name, line)
