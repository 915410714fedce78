"""Execution events: frozen records the engine hands, one at a time, to its subscriber (the progress view).
They are `Record`s rather than dataclasses, which would compile their methods each time a run starts."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from hypermetric.plan.job import Job
from hypermetric.record import Record, setfield

if TYPE_CHECKING:
    from hypermetric.execution.report import RunReport


class RunStarted(Record):
    """The run begins: `total` jobs will run; `complete` were found done and are skipped, counted here only
    (no event each: a large graph may have millions)."""

    __slots__ = ("total", "complete", "record")
    total: int
    complete: int
    record: str | None  # path of the run record, when one was written

    def __init__(self, total: int, complete: int, record: str | None = None) -> None:
        setfield(self, "total", total)
        setfield(self, "complete", complete)
        setfield(self, "record", record)


class JobQueued(Record):
    __slots__ = ("job",)
    job: Job

    def __init__(self, job: Job) -> None:
        setfield(self, "job", job)


class JobStarted(Record):
    __slots__ = ("job", "attempt")
    job: Job
    attempt: int

    def __init__(self, job: Job, attempt: int = 1) -> None:
        setfield(self, "job", job)
        setfield(self, "attempt", attempt)


class JobWaiting(Record):
    """The job waits: for its lock, held by another process, or (a service's `stop`) to run after an
    interrupt; `message` says which."""

    __slots__ = ("job", "message")
    job: Job
    message: str

    def __init__(self, job: Job, message: str) -> None:
        setfield(self, "job", job)
        setfield(self, "message", message)


class JobOutput(Record):
    """One line of a job's output, without its newline; a line that a lone `\r` ended (a progress bar
    redrawing itself in place) keeps that `\r`, so a viewer can replace the previous one."""

    __slots__ = ("job", "stream", "line")
    job: Job
    stream: Literal["stdout", "stderr"]
    line: str

    def __init__(self, job: Job, stream: Literal["stdout", "stderr"], line: str) -> None:
        setfield(self, "job", job)
        setfield(self, "stream", stream)
        setfield(self, "line", line)


class JobSucceeded(Record):
    __slots__ = ("job", "duration", "attempt")
    job: Job
    duration: float
    attempt: int

    def __init__(self, job: Job, duration: float = 0.0, attempt: int = 1) -> None:
        setfield(self, "job", job)
        setfield(self, "duration", duration)
        setfield(self, "attempt", attempt)


class JobFailed(Record):
    """A failed attempt; `will_retry` when the scheduler runs the job again."""

    __slots__ = ("job", "reason", "stderr_tail", "attempt", "will_retry", "duration")
    job: Job
    reason: str
    stderr_tail: tuple[str, ...]
    attempt: int
    will_retry: bool
    duration: float

    def __init__(self, job: Job, reason: str, stderr_tail: tuple[str, ...] = (), attempt: int = 1,
                 will_retry: bool = False, duration: float = 0.0) -> None:
        setfield(self, "job", job)
        setfield(self, "reason", reason)
        setfield(self, "stderr_tail", stderr_tail)
        setfield(self, "attempt", attempt)
        setfield(self, "will_retry", will_retry)
        setfield(self, "duration", duration)


class JobSkipped(Record):
    """Not run: `complete` (a job of the run that another run on the same root finished meanwhile; those
    found done at the start are only counted in `RunStarted`), or an `upstream failed` (with keep-going,
    where HyperMake would run it on missing inputs)."""

    __slots__ = ("job", "reason")
    job: Job
    reason: Literal["complete", "upstream failed"]

    def __init__(self, job: Job, reason: Literal["complete", "upstream failed"]) -> None:
        setfield(self, "job", job)
        setfield(self, "reason", reason)


class RunFinished(Record):
    __slots__ = ("report",)
    report: RunReport

    def __init__(self, report: RunReport) -> None:
        setfield(self, "report", report)


Event = (RunStarted | JobQueued | JobStarted | JobWaiting | JobOutput | JobSucceeded | JobFailed | JobSkipped
         | RunFinished)
