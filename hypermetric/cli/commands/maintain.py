"""Maintenance commands: `invalidate`, `remove`, `touch`, `unlock` (list, confirm, then act)."""

from __future__ import annotations

import sys

import typer

from hypermetric import api
from hypermetric.cli import render
from hypermetric.cli.options import Common, command
from hypermetric.cli.session import open_session
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
    return _act(c, "invalidate")


def cmd_remove(c: Common) -> int:
    return _act(c, "remove")


def cmd_touch(c: Common) -> int:
    return _act(c, "touch")


def cmd_unlock(c: Common) -> int:
    s = open_session(c)
    s.require_targets()
    jobs = api.target_jobs(s.pipeline, s.targets)
    locked = api.locked(jobs)
    if not locked:
        sys.stdout.write(f"None of the {jobs_phrase(len(jobs))} has a lock file: nothing to unlock.\n"
                         if len(jobs) != 1 else "The job has no lock file: nothing to unlock.\n")
        return 0
    if confirm(c, "unlock", locked):
        api.apply("unlock", locked)
    return 0


def _act(c: Common, action: api.Action) -> int:
    """List the jobs `action` affects, confirm, then act on each (`remove` says which one it removes)."""
    s = open_session(c)
    if action != "invalidate":  # with no target, `invalidate` has nothing to do and says so
        s.require_targets()
    jobs = api.affected(action, s.pipeline, s.targets)
    if confirm(c, action, jobs):
        for job in jobs:
            if action == "remove":
                sys.stdout.write(f"Removing job at {job.workdir}\n")
                sys.stdout.flush()
            api.apply(action, [job], on_wait=waiting)
    return 0


def waiting(job: api.Job, message: str) -> None:
    """Tell the user a running job is being waited for."""
    sys.stderr.write(f"waiting for the running job {job.label} to finish ({message}); Ctrl-C to give up\n")
    sys.stderr.flush()


def confirm(c: Common, action: str, jobs: list[api.Job]) -> bool:
    """List the jobs; ask on a terminal unless `-y`; refuse without a terminal (exit 2)."""
    lines: list[tuple[str, str | None]] = [(render.HEADER, "header"),
                                           (_TITLES[action].format(jobs=jobs_phrase(len(jobs))), None)]
    for job, status in zip(jobs, api.statuses(jobs)):
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
