"""The store's maintenance operations (§6.2): `remove`, `touch`, `invalidate`, `unlock`, and atomic writes.

A finished output is never half deleted: a directory is first renamed to a hidden sibling (one atomic step
that takes `exitcode` and the outputs away together), then deleted; a file is written to a temporary name and
renamed over its target.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable
from typing import TYPE_CHECKING

from hypermetric.store import lock
from hypermetric.store.layout import EXITCODE, hidden_sibling

if TYPE_CHECKING:
    from hypermetric.plan.job import Job

unlock = lock.unlock


def write_atomic(path: str, data: bytes) -> None:
    """Write `data` to `path` through a temporary sibling and a rename, so readers see all or nothing."""
    tmp = f"{path}.tmp-{os.getpid()}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def remove_tree(path: str) -> bool:
    """Delete the directory `path` by renaming it to a hidden sibling first; True if it existed."""
    doomed = hidden_sibling(path, "removing")
    try:
        os.rename(path, doomed)
    except FileNotFoundError:
        return False
    except NotADirectoryError:
        os.unlink(path)
        return True
    shutil.rmtree(doomed, ignore_errors=True)
    return True


def remove(job: Job) -> bool:
    """Delete the job directory (outputs, logs, `exitcode`); True if there was one."""
    return remove_tree(job.workdir)


def touch(job: Job) -> None:
    """Mark `job` as done without running it: create its directory and outputs, then write `exitcode` 0."""
    os.makedirs(job.workdir, exist_ok=True)
    with lock.job_lock(job):
        for _, rel in job.outputs:
            path = os.path.join(job.workdir, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "ab"):
                pass
            os.utime(path)
        write_atomic(os.path.join(job.workdir, EXITCODE), b"0")


def invalidate(jobs: Iterable[Job]) -> list[str]:
    """Delete `exitcode` of each job (outputs are kept); the ids of the jobs that had one.

    The caller chooses the jobs, dependents included (`JobGraph.downstream`, run records).
    """
    done: list[str] = []
    for job in jobs:
        try:
            os.unlink(os.path.join(job.workdir, EXITCODE))
        except FileNotFoundError:
            continue
        done.append(job.id)
    return done
