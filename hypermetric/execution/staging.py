"""Job directories made ahead: the job likely to start next prepared while the job before it runs.

On some disks creating a file or a directory costs a fifth to half a millisecond, and a job directory needs
about eight of them (the directory, `.lock`, input links, `script`, `args`, `stdout`, `stderr`) before its
script can start; starting bash takes about as long again. On a chain every one of them sits between one job's
end and the next one's start, while a core waits; with many short independent jobs they keep a slot empty
between one job and the next. So, while a job runs, the job it alone still holds back (else the next job
waiting for a slot) is prepared in a hidden folder beside its job directory (`.<case>.staged`), and
the local runner starts its script process too, which waits behind its gate (`store.gate`) and, once let
through, changes into the job directory before it reads its script. When the job starts, one rename puts the
folder in place, already locked, and the gate opens: no file, directory or process is made in between. A
process started with other settings than the job's start has (a backend's per-job environment) is let go and
the job started anew.

Whoever holds the folder's `.lock` owns it: a folder found there and not locked was left by a runner that
died, and is removed before a new one is made, or when its job starts the ordinary way (`remove_stale`); a
locked one belongs to another live runner, and the job is then prepared the ordinary way when it starts. The
rename succeeds only where no job directory is there (an empty one is replaced, which holds nothing), so a job
that another run made meanwhile is left alone and prepared, checked and locked as usual. A folder that is
never used (its job is skipped, the run stops) is deleted when the runner closes.

Only plain local jobs are made ahead: a job with a runner, custom file systems or a reduction input is always
prepared where it runs.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from hypermetric.execution.links import link_input
from hypermetric.execution.script import args_text, run_variables, wrap
from hypermetric.plan.job import LOCAL
from hypermetric.store import lock as store_lock
from hypermetric.store.fdio import EXCLUSIVE, REPLACE, write_file
from hypermetric.store.layout import ARGS, LOCK, STDERR, STDOUT, hidden_sibling
from hypermetric.store.mutations import delete_renamed

if TYPE_CHECKING:
    from hypermetric.execution.process import Started
    from hypermetric.execution.watchdog import Guard
    from hypermetric.plan.job import Job

_TAG = "staged"


class Staged:
    """A job's folder made ahead and locked by this process, with the variables its `args` holds, and the
    job's script process when that was started ahead too (waiting behind its gate, registered by `guard`)."""

    __slots__ = ("path", "held", "variables", "started", "guard", "launch")

    def __init__(self, path: str, held: store_lock.Held, variables: dict[str, str]) -> None:
        self.path, self.held, self.variables = path, held, variables
        self.started: Started | None = None
        self.guard: Guard | None = None
        self.launch: tuple[tuple[str, ...], dict[str, str]] | None = None  # the started process's shell, env

    def started_as(self, shell: tuple[str, ...], env: dict[str, str]) -> Started | None:
        """The process started ahead if it was started with `shell` and `env`, as the job is to run now;
        else None, and such a process is let go (it runs nothing)."""
        if self.started is not None and self.launch != (tuple(shell), env):
            stop_started(self)
        return self.started


def stageable(job: Job) -> bool:
    """Whether `job` can be made ahead: run by the local shell, with plain local inputs only."""
    return job.runner is None and job.exec_fs == LOCAL and not job.file_systems and \
        not any(link.is_reduction for link in job.inputs)


def staged_path(workdir: str) -> str:
    parent, case = os.path.split(workdir)
    return os.path.join(parent, f".{case}.{_TAG}")


def stage(job: Job, new_uuid: str) -> Staged | None:
    """Make `job`'s folder ahead (module docstring); None when it cannot be made or another runner owns it,
    and when the job's directory is there already (an outdated job's, say): its start must check it, so
    nothing made ahead could be used."""
    if os.path.lexists(job.workdir):
        return None
    path = staged_path(job.workdir)
    for _ in range(2):
        made = _make(path)
        if made is None:
            return None
        held = store_lock.try_acquire(os.path.join(path, LOCK))
        if held is None:
            return None
        if not made:  # left by a runner that died: ours now, so move it away and start afresh
            _remove(path, held)
            continue
        try:
            return Staged(path, held, write_files(job, path, new_uuid))
        except OSError:
            _remove(path, held)
            return None
    return None


def remove_stale(job: Job) -> None:
    """Delete the folder made ahead for `job` if no live runner holds it (one that died left it): called by a
    start that prepares the job the ordinary way, so such a folder does not outlive the job's next run when
    nothing makes the job ahead again. A job that is never made ahead costs nothing here."""
    if not stageable(job):
        return
    path = staged_path(job.workdir)
    if not os.path.lexists(path):
        return
    try:
        held = store_lock.try_acquire(os.path.join(path, LOCK))
    except OSError:  # gone meanwhile, or not a folder we can lock: not ours to delete
        return
    if held is not None:
        _remove(path, held)


def claim(staged: Staged, job: Job) -> store_lock.Held | None:
    """Put the folder in place as `job`'s directory; the lock now held on its `.lock`, or None (and the folder
    deleted) when a job directory is there already."""
    try:
        os.rename(staged.path, job.workdir)
    except OSError:
        discard(staged)
        return None
    return store_lock.Held(os.path.join(job.workdir, LOCK), staged.held.fd)


def discard(staged: Staged) -> None:
    """Stop the process started ahead (it runs nothing), delete the folder, then let go of its lock."""
    stop_started(staged)
    _remove(staged.path, staged.held)


def stop_started(staged: Staged) -> None:
    """Let the process started ahead go unopened (it exits without running anything), if there is one."""
    if staged.started is not None:
        staged.started.abandon()
        staged.started = None
        if staged.guard is not None:
            staged.guard.release()


def write_files(job: Job, folder: str, new_uuid: str, exclusive: bool = False) -> dict[str, str]:
    """Link the inputs and write the script files and `args` of `job` into `folder` (its directory, or the
    folder that becomes it); the job's variables. With `exclusive`, a script file or `args` that is there
    already raises `FileExistsError` instead of being replaced."""
    for link in job.inputs:
        if link.link:
            link_input(folder, link)
    return write_scripts(job, folder, new_uuid, exclusive=exclusive)


def write_scripts(job: Job, folder: str, new_uuid: str, overrides: dict[str, str] | None = None,
                  exclusive: bool = False) -> dict[str, str]:
    """Write the script files and `args` of `job` into `folder`, with the variables of `overrides` replacing
    the job's own (with `exclusive`, none of them may be there already: see `write_files`); the variables."""
    prepared = wrap(job)
    variables = run_variables(job, prepared, new_uuid)
    if overrides:
        variables.update(overrides)
    flags = EXCLUSIVE if exclusive else REPLACE
    for name, text in prepared.files:
        write_file(os.path.join(folder, name), text.encode(), flags)
    write_file(os.path.join(folder, ARGS), args_text(variables).encode(), flags)
    return variables


def write_outputs(folder: str) -> None:
    """Empty `stdout` and `stderr` files, so that the job's start only opens them (when no process is started
    ahead: that one opens them itself)."""
    for name in (STDOUT, STDERR):
        write_file(os.path.join(folder, name), b"")


def _make(path: str) -> bool | None:
    """Create `path` (and the task folder above it); whether this call made it, None when it cannot."""
    try:
        os.mkdir(path)
        return True
    except FileExistsError:
        return False
    except FileNotFoundError:
        try:
            os.makedirs(path)
            return True
        except OSError:
            return None
    except OSError:
        return None


def _remove(path: str, held: store_lock.Held) -> None:
    """Delete the folder `path` whose lock is `held`, then close the lock. It is first renamed to a name of its
    own, so the name is free at once and nothing can mistake a folder made there afterwards for this one."""
    doomed = hidden_sibling(path, "removing")
    try:
        os.rename(path, doomed)
    except OSError:
        doomed = path
    delete_renamed(doomed)
    if held.fd is not None:
        os.close(held.fd)
