"""Execution events: frozen records the engine hands, one at a time, to its subscriber (the progress view)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from hypermetric.plan.job import Job

if TYPE_CHECKING:
    from hypermetric.execution.report import RunReport


@dataclass(frozen=True, slots=True)
class RunStarted:
    """The run begins: `total` jobs will run; `complete` were found done and are skipped, counted here only
    (no event each: a large graph may have millions)."""

    total: int
    complete: int
    record: str | None = None                  # path of the run record, when one was written


@dataclass(frozen=True, slots=True)
class JobQueued:
    job: Job


@dataclass(frozen=True, slots=True)
class JobStarted:
    job: Job
    attempt: int = 1


@dataclass(frozen=True, slots=True)
class JobWaiting:
    """The job waits: for its lock, held by another process, or (a service's `stop`) to run after an
    interrupt; `message` says which."""

    job: Job
    message: str


@dataclass(frozen=True, slots=True)
class JobOutput:
    """One line of a job's output, without its newline; a line that a lone `\r` ended (a progress bar
    redrawing itself in place) keeps that `\r`, so a viewer can replace the previous one."""

    job: Job
    stream: Literal["stdout", "stderr"]
    line: str


@dataclass(frozen=True, slots=True)
class JobSucceeded:
    job: Job
    duration: float = 0.0
    attempt: int = 1


@dataclass(frozen=True, slots=True)
class JobFailed:
    """A failed attempt; `will_retry` when the scheduler runs the job again."""

    job: Job
    reason: str
    stderr_tail: tuple[str, ...] = ()
    attempt: int = 1
    will_retry: bool = False
    duration: float = 0.0


@dataclass(frozen=True, slots=True)
class JobSkipped:
    """Not run: `complete` (a job of the run that another run on the same root finished meanwhile; those
    found done at the start are only counted in `RunStarted`), or an `upstream failed` (with keep-going,
    where HyperMake would run it on missing inputs)."""

    job: Job
    reason: Literal["complete", "upstream failed"]


@dataclass(frozen=True, slots=True)
class RunFinished:
    report: RunReport


Event = (RunStarted | JobQueued | JobStarted | JobWaiting | JobOutput | JobSucceeded | JobFailed | JobSkipped
         | RunFinished)
