"""The store's maintenance operations: `remove`, `touch`, `invalidate`, `unlock`, and atomic writes.

A finished output is never half deleted: a directory is first renamed to a hidden sibling (one atomic step
that takes `exitcode` and the outputs away together), then deleted; a file is written to a temporary name and
renamed over its target. A deletion that Ctrl-C, SIGTERM or SIGHUP interrupts goes on in a process of its own
(`delete_renamed`), so an interrupted command leaves no hidden half-deleted folder behind. On a custom file
system, `remove` deletes the job's path there and `touch` creates the outputs with its `touch`; `invalidate`
only touches `exitcode`, which is always local.

`remove`, `touch` and `invalidate` first wait for the job's lock: a running job's directory is never deleted
under it, and a job still running cannot write `exitcode` after it was invalidated.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from hypermetric.errors import about_path
from hypermetric.store import lock
from hypermetric.store.fdio import write_all
from hypermetric.store.layout import EXITCODE, LOCK, hidden_sibling

if TYPE_CHECKING:
    from hypermetric.plan.job import Job

unlock = lock.unlock


def write_atomic(path: str, data: bytes) -> None:
    """Write `data` to `path` through a temporary sibling and a rename, so readers see all or nothing."""
    tmp = f"{path}.tmp-{os.getpid()}"
    with about_path(path):
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
        try:
            write_all(fd, data)
        except OSError:
            os.close(fd)
            os.unlink(tmp)  # a full disk: leave no temporary file behind
            raise
        os.close(fd)
        os.replace(tmp, path)


def remove_tree(path: str) -> bool:
    """Delete the directory `path` by renaming it to a hidden sibling first; True if it existed."""
    if not os.path.lexists(path):  # nothing to do, so nothing to write: the root may be read-only
        return False
    doomed = hidden_sibling(path, "removing")
    try:
        os.rename(path, doomed)
    except FileNotFoundError:
        return False
    except NotADirectoryError:
        os.unlink(path)
        return True
    delete_renamed(doomed)
    return True


def delete_renamed(path: str) -> None:
    """Delete the folder `path`, which was renamed to a name nothing refers to. When an interrupt (Ctrl-C,
    SIGTERM, SIGHUP) stops the deletion half-way, the rest is handed to an `rm` in a session of its own, which
    goes on after this process has ended (a hidden folder nobody would ever delete is left only by SIGKILL),
    and the interrupt goes on."""
    try:
        shutil.rmtree(path, ignore_errors=True)
    except BaseException:
        _delete_in_background(path)
        raise


def _delete_in_background(path: str) -> None:
    """Start `rm -rf path` through a shell that leaves it running and exits at once, so that it is nobody's
    child and a Ctrl-C at the terminal does not reach it."""
    import subprocess  # only when a deletion is interrupted

    try:
        subprocess.run(["/bin/sh", "-c", 'rm -rf -- "$1" </dev/null >/dev/null 2>&1 &', "hypermetric", path],
                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       start_new_session=True, check=False)
    except OSError:  # no shell to start: the folder stays, hidden, as before
        pass


@contextmanager
def _locked_dir(job: Job, on_wait: lock.WaitCallback | None) -> Iterator[bool]:
    """Hold the job's lock, if its directory exists, for the block; yields whether it does."""
    if not os.path.isdir(job.workdir):
        yield False
        return
    try:
        held = lock.acquire(os.path.join(job.workdir, LOCK), on_wait=on_wait)
    except (FileNotFoundError, NotADirectoryError):  # removed meanwhile
        yield False
        return
    try:
        yield True
    finally:
        lock.release(held)


def remove(job: Job, *, on_wait: lock.WaitCallback | None = None) -> bool:
    """Delete the job directory (outputs, logs, `exitcode`), then the job's path on every custom file system
    its outputs (or its inputs' copies) live on; True if there was a local directory.

    A running job is waited for (`on_wait` hears about the wait); the directory goes while its lock is held.
    """
    with _locked_dir(job, on_wait):
        found = remove_tree(job.workdir)
    from hypermetric.store import fscall  # custom file systems only: it imports subprocess, logging, tempfile

    for spec in fscall.job_file_systems(job):
        fscall.fs_call(spec, "remove", job.relpath)
    return found


def touch(job: Job, *, on_wait: lock.WaitCallback | None = None) -> None:
    """Mark `job` as done without running it: create its directory and outputs, then write `exitcode` 0."""
    os.makedirs(job.workdir, exist_ok=True)
    with lock.job_lock(job, on_wait=on_wait):
        for name, rel in job.outputs:
            fs = job.output_file_system(name)
            if fs != "local":
                _touch_on(job, fs, rel)
                continue
            path = os.path.join(job.workdir, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "ab"):
                pass
            os.utime(path)
        write_atomic(os.path.join(job.workdir, EXITCODE), b"0")


def _touch_on(job: Job, fs: str, rel: str) -> None:
    """`fs.mkdir` of the output's folder, then `fs.touch` of `<job path>/<file>`."""
    from hypermetric.store import fscall

    spec = job.file_system(fs)
    path = f"{job.relpath}/{rel}"
    fscall.fs_call(spec, "mkdir", os.path.dirname(path))
    fscall.fs_call(spec, "touch", path)


def invalidate(jobs: Iterable[Job], *, on_wait: lock.WaitCallback | None = None) -> list[str]:
    """Delete `exitcode` of each job (outputs are kept); the ids of the jobs that had one.

    A running job has no `exitcode` yet, so a job without one is waited for (`on_wait` hears about the wait)
    before it is looked at again: it must not become done after it was invalidated.
    The caller chooses the jobs, dependents included (`JobGraph.downstream`, run records).
    """
    done: list[str] = []
    for job in jobs:
        path = os.path.join(job.workdir, EXITCODE)
        if not os.path.lexists(path) and not lock.is_locked(job):
            continue  # not done and not running: write nothing, the root may be read-only
        with _locked_dir(job, on_wait):
            try:
                os.unlink(path)
            except FileNotFoundError:
                continue
        done.append(job.id)
    return done
