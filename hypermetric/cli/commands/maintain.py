"""Maintenance commands: `invalidate`, `remove`, `touch`, `unlock` (list, confirm, then act)."""

from __future__ import annotations

import os
import sys

import typer

from hypermetric.cli import render
from hypermetric.cli.options import Common, command
from hypermetric.cli.session import Session, open_session
from hypermetric.errors import UsageError

_TITLES = {
    "invalidate": "The following {jobs} will be invalidated:",
    "remove": "The output of the following {jobs} will be removed:",
    "touch": "The following {jobs} will be marked as done:",
    "unlock": "The following {jobs} will be unlocked:",
}
# `touch` keeps HyperMake's rule that a job is done when its outputs exist, so it must make them; say so.
_NOTES = {"touch": "Outputs that do not exist are created empty (`results` shows such a case as `empty`)."}


def jobs_phrase(n: int) -> str:
    """`1 job`, `3 jobs`."""
    return f"{n} job" if n == 1 else f"{n} jobs"


def register(app: typer.Typer) -> None:
    command(app, "invalidate", "Mark jobs and everything downstream of them as not done (outputs kept).",
            yes=True)(cmd_invalidate)
    command(app, "remove", "Delete the jobs' directories.", yes=True)(cmd_remove)
    command(app, "touch", "Mark jobs as done without running them.", yes=True)(cmd_touch)
    command(app, "unlock", "Remove lock files left behind by a killed run.", yes=True)(cmd_unlock)


def cmd_invalidate(c: Common) -> int:
    from hypermetric.store.mutations import invalidate

    s = open_session(c)
    jobs = downstream_jobs(s)
    if not confirm(c, "invalidate", jobs):
        return 0
    for job in jobs:
        invalidate([job], on_wait=waiting_for(job))
    return 0


def cmd_remove(c: Common) -> int:
    from hypermetric.store.mutations import remove

    def act(job) -> None:
        sys.stdout.write(f"Removing job at {job.workdir}\n")
        sys.stdout.flush()
        remove(job, on_wait=waiting_for(job))

    return _each_target(c, "remove", act)


def cmd_touch(c: Common) -> int:
    from hypermetric.store.mutations import touch

    return _each_target(c, "touch", lambda job: touch(job, on_wait=waiting_for(job)))


def waiting_for(job):
    """A lock-wait callback that tells the user a running job is being waited for."""
    def say(message: str) -> None:
        sys.stderr.write(f"waiting for the running job {job.label} to finish ({message}); Ctrl-C to give up\n")
        sys.stderr.flush()

    return say


def cmd_unlock(c: Common) -> int:
    from hypermetric.store.lock import lock_path, unlock

    jobs = target_jobs(open_session(c))
    locked = [job for job in jobs if os.path.lexists(lock_path(job))]
    if not locked:
        sys.stdout.write(f"None of the {jobs_phrase(len(jobs))} has a lock file: nothing to unlock.\n"
                         if len(jobs) != 1 else "The job has no lock file: nothing to unlock.\n")
        return 0
    if confirm(c, "unlock", locked):
        for job in locked:
            unlock(job)
    return 0


def _each_target(c: Common, action: str, act) -> int:
    """List the target jobs, confirm, then apply `act` to each."""
    jobs = target_jobs(open_session(c))
    if confirm(c, action, jobs):
        for job in jobs:
            act(job)
    return 0


def target_jobs(s: Session) -> list:
    graph = s.plan()
    return [graph.jobs[i] for i in graph.targets]


def downstream_jobs(s: Session) -> list:
    """The target jobs and every recorded job (`<root>/.runs`) that depends on them, dependents first (so
    a dependent is never left done after what it was made from is not)."""
    from hypermetric import api

    graph = api.plan_with_history(s.pipeline, s.targets, root_override=s.common.root)
    affected = graph.downstream(graph.targets)
    return [graph.jobs[i] for i in reversed(graph.order()) if i in affected]


def confirm(c: Common, action: str, jobs: list) -> bool:
    """List the jobs; ask on a terminal unless `-y`; refuse without a terminal (exit 2)."""
    from hypermetric.store.status import job_statuses

    lines: list[tuple[str, str | None]] = [(render.HEADER, "header"),
                                           (_TITLES[action].format(jobs=jobs_phrase(len(jobs))), None)]
    for job, status in zip(jobs, job_statuses(jobs)):
        lines.append((f"{status.symbol} {job.label}: {status.label}", None))
    if action in _NOTES and jobs:
        lines.append((_NOTES[action], None))
    render.write_lines(lines, c.color)
    if c.yes or not jobs:
        return bool(jobs)
    if not sys.stdin.isatty():
        raise UsageError(f"`{action}` needs confirmation, and standard input is not a terminal",
                         help="pass -y to proceed without asking")
    sys.stdout.write("Continue? [y/n]: ")
    sys.stdout.flush()
    answer = sys.stdin.readline()
    if not answer:
        raise typer.Exit(1)
    return answer.strip().lower() == "y"
