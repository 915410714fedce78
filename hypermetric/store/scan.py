"""One status pass over many jobs, known by directory: the status of each and the signature it recorded.

A large tensor is mostly finished jobs, so a finished job costs as little as can be: its task folder is listed
once for the pass; its `exitcode` and `job.json` are each stat'ed, and read only when the status cache
(store/statuscache.py) does not know them by those identities; each output is stat'ed, every time (an
output deleted by hand makes the job not complete). Nothing of a job is kept. Jobs with outputs on a custom
file system are checked from their `Job` as before, without the cache.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from hypermetric.store.layout import EXITCODE, JOB_JSON
from hypermetric.store.records import read_signature
from hypermetric.store.status import JobStatus, Listing, job_status, local_outputs_present, read_exitcode
from hypermetric.store.statuscache import StatusCache

if TYPE_CHECKING:
    from hypermetric.plan.job import Job

Found = tuple[JobStatus, "str | None"]
_PENDING: Found = (JobStatus.PENDING, None)
_FAILED: Found = (JobStatus.FAILED, None)


class StatusScan:
    """The status pass of the jobs below one output root; `save` writes what it learnt to the status cache."""

    def __init__(self, root: str) -> None:
        self._listings: dict[str, Listing] = {}
        self._cache = StatusCache(root, time.time_ns())  # the time before any file is looked at

    def _present(self, workdir: str) -> tuple[str, bool]:
        parent, _, name = workdir.rpartition("/")
        listing = self._listings.get(parent)
        if listing is None:
            listing = self._listings[parent] = Listing(parent)
        return parent, name in listing

    def check(self, workdir: str, outputs: Sequence[str]) -> Found:
        """(status, recorded signature) of the job in `workdir` whose outputs (relative paths) are all local:
        COMPLETE ⇔ `exitcode` reads 0 and every output exists, FAILED when an `exitcode` is recorded but the
        job is not complete, else PENDING; the signature (`""` or None when none) only for COMPLETE."""
        parent, present = self._present(workdir)
        if not present:
            return _PENDING
        try:
            exitcode = os.stat(f"{workdir}/{EXITCODE}")
        except (OSError, ValueError):
            return _PENDING
        try:
            record: os.stat_result | None = os.stat(f"{workdir}/{JOB_JSON}")
        except (OSError, ValueError):
            record = None
        folder = self._cache.folder(parent)
        recorded = folder.lookup(exitcode, record) if folder is not None else None
        if recorded is None:
            code = read_exitcode(workdir)
            if code != 0:
                return _PENDING if code is None else _FAILED
        if not local_outputs_present(workdir, outputs):
            return _FAILED
        if recorded is None:
            recorded = read_signature(workdir)
            if folder is not None:
                folder.add(exitcode, record, recorded)  # the identities from before the files were read
        return JobStatus.COMPLETE, recorded

    def check_job(self, job: Job) -> Found:
        """`check` of a job with outputs on a custom file system: from its `Job`, read every time."""
        if not self._present(job.workdir)[1]:
            return _PENDING
        status = job_status(job)
        return (status, read_signature(job.workdir)) if status is JobStatus.COMPLETE else (status, None)

    def save(self) -> None:
        self._cache.save()
