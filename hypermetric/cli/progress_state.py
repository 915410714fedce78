"""What a run has done so far, as the progress view counts it: one place, so the bar and the lines agree.

Every count the live bar shows (done out of total, running, queued, failed, the estimate of the time left)
is read from this state, and every status line is printed after the state has changed, under the same lock,
so the bar never lags behind the lines printed above it.
"""

from __future__ import annotations

import threading
import time


class Running:
    __slots__ = ("label", "since", "latest")

    def __init__(self, label: str, since: float, latest: str = "") -> None:
        self.label = label
        self.since = since
        self.latest = latest  # the job's latest output line (a `\r` progress line replaces the one before)


class RunState:
    def __init__(self, total: int = 0) -> None:
        self.total = total
        self.done = 0
        self.failed = 0
        self.started = time.monotonic()
        self.queued: set[str] = set()
        self.running: dict[str, Running] = {}
        self.durations: list[float] = []
        # A job's output can arrive before the event that says it started (the script writes while the event
        # is still on its way from another thread): its latest line waits here until then.
        self.early: dict[str, str] = {}
        self.lock = threading.Lock()

    def queue(self, job_id: str) -> None:
        self.queued.add(job_id)

    def start(self, job_id: str, label: str) -> None:
        self.queued.discard(job_id)
        self.running[job_id] = Running(label, time.monotonic(), self.early.pop(job_id, ""))

    def output(self, job_id: str, line: str) -> None:
        text = line.strip()
        if not text:
            return
        job = self.running.get(job_id)
        if job is not None:
            job.latest = text
        elif job_id in self.queued:
            self.early[job_id] = text

    def finish(self, job_id: str, *, failed: bool = False, duration: float | None = None,
               counted: bool = True) -> None:
        """A job left the run (`counted`) or will be tried again (not counted: it goes back to the queue)."""
        was_planned = job_id in self.running or job_id in self.queued
        self.running.pop(job_id, None)
        self.early.pop(job_id, None)
        if not counted:
            self.queued.add(job_id)
            return
        self.queued.discard(job_id)
        if was_planned:
            self.done += 1
            self.failed += failed
        if duration:
            self.durations.append(duration)

    def eta(self) -> float | None:
        """Seconds left: the mean duration of the finished jobs times the jobs left, over the jobs that run at
        once (at least one); None before any job has finished."""
        if not self.durations:
            return None
        left = max(0, self.total - self.done)
        mean = sum(self.durations) / len(self.durations)
        running = self.running.values()
        elapsed_now = sum(min(mean, time.monotonic() - job.since) for job in running)
        return max(0.0, (mean * left - elapsed_now) / max(1, len(self.running)))

    def counts(self) -> str:
        """`2 running, 5 queued, 1 failed` (the parts that are not zero; `running` always)."""
        parts = [f"{len(self.running)} running"]
        if self.queued:
            parts.append(f"{len(self.queued)} queued")
        if self.failed:
            parts.append(f"{self.failed} failed")
        return ", ".join(parts)


def clock(seconds: float | None) -> str:
    """`0:42`, `1:02:03`, or `-:--` when unknown."""
    if seconds is None:
        return "-:--"
    whole = int(seconds + 0.5)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
