"""`RunReport`: what a run did to each job, how long it took, what failed, and the exit code (0 all
done, 1 a job failed, 130/143/129 interrupted)."""

from __future__ import annotations

import os
import signal
from dataclasses import dataclass, field

from hypermetric.errors import EXIT_JOB_FAILED, EXIT_OK
from hypermetric.exitcode import ExitCode
from hypermetric.store.layout import STDERR, STDOUT
from hypermetric.store.status import JobStatus


@dataclass
class JobResult:
    """The final state of one job in a run.

    `status` is SUCCESS, FAILED, SKIPPED (upstream failed), COMPLETE (already done, not run) or PENDING (never
    started: after a failure without keep-going, an interrupt, or an ephemeral job nothing needed).
    """

    job_id: str
    label: str
    workdir: str
    status: JobStatus = JobStatus.PENDING
    attempts: int = 0
    duration: float = 0.0
    exit_code: int | None = None
    reason: str | None = None
    stderr_tail: tuple[str, ...] = ()

    @property
    def stdout_path(self) -> str:
        return os.path.join(self.workdir, STDOUT)

    @property
    def stderr_path(self) -> str:
        return os.path.join(self.workdir, STDERR)


@dataclass
class RunReport:
    """A result per job the run decided to run, in the graph's order, plus whether the run was interrupted.

    The jobs found done are only counted (`complete`): in a large graph that is mostly done, a result each
    would cost more than the run. So are the jobs not done that nothing needed (`not_needed`: an ephemeral
    job whose consumers are done), which count as PENDING.
    """

    results: dict[str, JobResult] = field(default_factory=dict)
    complete: int = 0                           # jobs found done, not run (no result each)
    not_needed: int = 0                         # jobs not done that the run had no need of (PENDING)
    interrupted: bool = False
    signum: int | None = None                   # the signal that interrupted the run (None: SIGINT)
    started: float = 0.0
    finished: float = 0.0
    record: str | None = None                   # path of the run record's `jobs` file

    @property
    def failures(self) -> list[JobResult]:
        return [r for r in self.results.values() if r.status is JobStatus.FAILED]

    @property
    def executed(self) -> int:
        """How many jobs were started at least once."""
        return sum(1 for r in self.results.values() if r.attempts > 0)

    @property
    def duration(self) -> float:
        return max(0.0, self.finished - self.started)

    def count(self, status: JobStatus) -> int:
        return self.counts().get(status, 0)

    def counts(self) -> dict[JobStatus, int]:
        """Number of jobs per final status, for every status that occurs (the jobs found done included)."""
        out: dict[JobStatus, int] = {}
        for status, n in ((JobStatus.COMPLETE, self.complete), (JobStatus.PENDING, self.not_needed)):
            if n:
                out[status] = n
        for r in self.results.values():
            out[r.status] = out.get(r.status, 0) + 1
        return out

    @property
    def exit_code(self) -> int:
        """128 + the interrupting signal's number when interrupted (130, 143, 129), 1 when any job failed,
        else 0."""
        if self.interrupted:
            return ExitCode.for_signal(self.signum or signal.SIGINT)
        return EXIT_JOB_FAILED if self.failures else EXIT_OK
