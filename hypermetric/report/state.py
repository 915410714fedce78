"""What a report shows about the jobs: each job's status on disk (OUTDATED included), duration, failure reason
and stderr tail, the task-level graph, and the runs recorded under the root.

Everything is read from the job directories (`exitcode`, `job.json`, `stderr`) and from `ROOT/.runs`, so a
report can be written at any time, by anyone, without the process that ran the jobs.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from hypermetric.store.history import list_runs
from hypermetric.store.layout import STDERR
from hypermetric.store.staleness import Staleness, read_record
from hypermetric.store.status import JobStatus, failure_reason

if TYPE_CHECKING:
    from hypermetric.plan.graph import JobGraph
    from hypermetric.plan.job import Job

STDERR_LINES = 20
_TAIL_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class JobView:
    """One job as the report shows it."""

    id: str
    task: str
    case: tuple[tuple[str, str], ...]
    status: str
    reason: str | None = None
    duration: float | None = None
    stderr: tuple[str, ...] = ()
    stderr_path: str = ""

    @property
    def display(self) -> str:
        """`t[A: x, B: y]`, or `t` for the default case."""
        return f"{self.task}[{', '.join(f'{a}: {k}' for a, k in self.case)}]" if self.case else self.task


@dataclass(frozen=True, slots=True)
class RunView:
    """One recorded run: its folder name, start time, duration and count per status (None when it did not
    finish writing its summary)."""

    name: str
    start: float | None
    duration: float | None
    counts: dict[str, int]
    targets: list[str]


@dataclass
class ReportState:
    """The jobs of the report's graph in dependency order, the task graph, and the recorded runs."""

    root: str
    jobs: list[JobView]
    tasks: list[str]                                   # task names, in the order their first job appears
    edges: dict[str, set[str]] = field(default_factory=dict)   # task -> tasks that read from it
    runs: list[RunView] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """Jobs per status, in the order of the status vocabulary."""
        found: dict[str, int] = {}
        for job in self.jobs:
            found[job.status] = found.get(job.status, 0) + 1
        return {s.label: found[s.label] for s in JobStatus if s.label in found}

    def by_task(self) -> dict[str, list[JobView]]:
        out: dict[str, list[JobView]] = {name: [] for name in self.tasks}
        for job in self.jobs:
            out[job.task].append(job)
        return out


def read_state(graph: JobGraph) -> ReportState:
    """The report's view of `graph`'s jobs and of the runs recorded under its root."""
    states = Staleness(graph).states()
    jobs: list[JobView] = []
    tasks: dict[str, None] = {}
    edges: dict[str, set[str]] = {}
    for job_id, (status, reason) in states.items():
        job = graph.jobs[job_id]
        tasks.setdefault(job.name)
        for dep in job.deps:
            upstream = graph.jobs.get(dep)
            if upstream is not None and upstream.name != job.name:
                edges.setdefault(upstream.name, set()).add(job.name)
        jobs.append(_view(job, status, reason))
    return ReportState(graph.root, jobs, list(tasks), edges, read_runs(graph.root))


def _view(job: Job, status: JobStatus, reason: str | None) -> JobView:
    record = read_record(job.workdir) if status is not JobStatus.PENDING else None
    duration = _duration(record)
    if status is JobStatus.FAILED:
        reason = failure_reason(job)
        stderr_path = os.path.join(job.workdir, STDERR)
        return JobView(job.id, job.name, job.case, status.label, reason, duration, stderr_tail(stderr_path),
                       stderr_path)
    return JobView(job.id, job.name, job.case, status.label, reason, duration)


def _duration(record: dict[str, Any] | None) -> float | None:
    value = (record or {}).get("duration_s")
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def stderr_tail(path: str, lines: int = STDERR_LINES) -> tuple[str, ...]:
    """The last `lines` lines of a job's `stderr` (read from its last 64 KiB); empty when unreadable."""
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - _TAIL_BYTES))
            data = f.read()
    except OSError:
        return ()
    return tuple(data.decode("utf-8", errors="replace").splitlines()[-lines:])


def read_runs(root: str) -> list[RunView]:
    """The runs recorded under `root`, oldest first."""
    out = []
    for run in list_runs(root):
        summary = run.summary or {}
        start, end = summary.get("start"), summary.get("end")
        timed = isinstance(start, (int, float)) and isinstance(end, (int, float))
        found = summary.get("counts")
        counts: dict = found if isinstance(found, dict) else {}
        out.append(RunView(run.name, float(start) if timed else None,  # type: ignore[arg-type]  # timed: numbers
                           max(0.0, float(end) - float(start)) if timed else None,  # type: ignore[arg-type]  # timed: numbers
                           {str(k): int(v) for k, v in counts.items() if isinstance(v, int)},
                           [str(t) for t in summary.get("targets") or []]))
    return out
