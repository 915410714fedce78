"""One status pass over many jobs, known by directory: the status of each and the signature it recorded.

A large tensor is mostly finished jobs, so a finished job costs as little as can be: its task folder is listed
once for the pass (and opened, so that its jobs' files are found from it rather than from the root); its
`exitcode` and `job.json` are each stat'ed, and read only when the status cache (store/statuscache.py) does
not know them by those identities; each output is checked to exist, every time (an output deleted by hand
makes the job not complete). Nothing of a job is kept. Jobs with outputs on a custom file system are checked
from their `Job` as before, without the cache.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from hypermetric.store.identity import ABSENT, identity, name_hash
from hypermetric.store.layout import EXITCODE, JOB_JSON
from hypermetric.store.records import read_signature
from hypermetric.store.scan_record import (
    EXITCODE_IDENTITY,
    FOUND_EXITCODE,
    FOUND_OUTPUTS,
    HIT,
    HIT_INDEX,
    NAME,
    RECORD_IDENTITY,
)
from hypermetric.store.status import JobStatus, Listing, job_status, outputs_present, read_exitcode
from hypermetric.store.statuscache import FolderCache, StatusCache

if TYPE_CHECKING:
    from hypermetric.plan.job import Job
    from hypermetric.store.scan_ahead import Ahead

Found = tuple[JobStatus, "str | None", bool]
_PENDING: Found = (JobStatus.PENDING, None, False)
_FAILED: Found = (JobStatus.FAILED, None, False)
_MISSES, _SHARE = 64, 4  # jobs without `exitcode` in a folder before it is listed, and their least share


class _Folder:
    """A task folder as the pass found it: an open descriptor, which names it held (listed only once jobs
    that never ran show up: a folder of done jobs is not listed) and its status cache."""

    __slots__ = ("cache", "fd", "fingerprint", "found", "listing", "misses", "path")

    def __init__(self, path: str, cache: FolderCache | None) -> None:
        self.path, self.cache, self.misses, self.found = path, cache, 0, 0
        self.fingerprint: int | None = None  # of the folder's task, once a job needed it
        self.listing: Listing | None = None
        try:
            self.fd: int | None = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
        except OSError:
            self.fd = None
            self.listing = Listing(path)

    def missed(self) -> None:
        """A job that never finished: once they are more than a few and a fair share of the jobs looked at,
        the folder is listed, so that the jobs that never ran (most of a fresh tensor) cost no failed `stat`
        each; a folder of done jobs with a few not done is not (listing its names costs more)."""
        self.misses += 1
        if self.listing is None and self.misses >= _MISSES and self.misses * _SHARE >= self.found:
            self.listing = Listing(self.path)


class StatusScan:
    """The status pass of the jobs below one output root; `save` writes what it learnt to the status cache
    (and `close` lets go of the folders, as `save` does)."""

    def __init__(self, root: str, fingerprint: Callable[[str], int] = lambda _: 0) -> None:
        self._fingerprint = fingerprint  # of a job's task: under it, the cache holds signatures as planned
        self._folders: dict[str, _Folder] = {}
        self._cache = StatusCache(root, time.time_ns())  # the time before any file is looked at
        self.cache_of: Callable[[str], FolderCache | None] = self._cache.folder  # a task folder's status cache
        self._folder: FolderCache | None = None  # the cache of the job checked last

    def _present(self, workdir: str) -> tuple[_Folder, str, bool]:
        parent, _, name = workdir.rpartition("/")
        folder = self._folders.get(parent)
        if folder is None:
            folder = self._folders[parent] = _Folder(parent, self._cache.folder(parent))
        return folder, name, folder.listing is None or name in folder.listing

    def check(self, job_id: str, workdir: str, outputs: Sequence[str], ahead: Ahead | None = None,
              index: int = 0) -> Found:
        """(status, recorded signature, planned) of the job in `workdir` whose outputs (relative paths) are
        all local: COMPLETE ⇔ `exitcode` reads 0 and every output exists, FAILED when an `exitcode` is
        recorded but the job is not complete, else PENDING; the signature (`""` or None when none) only for
        COMPLETE, and whether the status cache holds it to be the planned one (under the fingerprint the task
        has now). `ahead`: what helpers found of the jobs (store/scan_ahead.py), asked for the one at `index` in
        the order in place of making its file checks and looking it up in the cache."""
        # Run once per job of a tensor of a million: what `_present` and `Listing` do is written out here.
        self._folder = None
        parent, _, name = workdir.rpartition("/")
        folder = self._folders.get(parent)
        if folder is None:
            folder = self._folders[parent] = _Folder(parent, self._cache.folder(parent))
        if folder.listing is not None:
            bits, mask = folder.listing.bits
            h = hash(name) & mask
            if not bits[h >> 3] >> (h & 7) & 1:
                return _PENDING
        cache = folder.cache
        looked = ahead.get(index) if ahead is not None else None
        if looked is not None:
            if not looked[0] & FOUND_EXITCODE:
                folder.missed()
                return _PENDING
            exitcode, record, key = looked[EXITCODE_IDENTITY], looked[RECORD_IDENTITY], looked[NAME]
            folder.found += 1
            if cache is None:
                found = None
            else:  # (the helper looked the entry up, in its copy of the cache)
                found = cache.found(looked[HIT] if looked[HIT_INDEX] >= 0 else None, exitcode, record, key, False)
        else:
            fd = folder.fd
            path = workdir if fd is None else name  # (a folder listed but not opened: from the root)
            stat = os.stat
            try:
                exitcode = identity(stat(f"{path}/{EXITCODE}", dir_fd=fd))
            except (OSError, ValueError):
                folder.missed()
                return _PENDING
            try:
                record = identity(stat(f"{path}/{JOB_JSON}", dir_fd=fd))
            except (OSError, ValueError):
                record = ABSENT
            key = name_hash(name)
            folder.found += 1
            found = cache.lookup(exitcode, record, key) if cache is not None else None
        if found is None:
            code = read_exitcode(workdir)
            if code != 0:
                return _PENDING if code is None else _FAILED
        present = looked[0] & FOUND_OUTPUTS if looked is not None else outputs_present(path, fd, outputs)
        if not present:
            return _FAILED
        self._folder = cache
        if found is None:
            recorded = read_signature(workdir)
            if cache is not None:
                cache.add(exitcode, record, key, recorded)  # the identities from before the files were read
            return JobStatus.COMPLETE, recorded, False
        recorded, tag = found
        if tag and folder.fingerprint is None:
            folder.fingerprint = self._fingerprint(job_id)
        return JobStatus.COMPLETE, recorded, tag != 0 and tag == folder.fingerprint

    def confirm(self, fingerprint: int) -> None:
        """The job checked last, COMPLETE, recorded its planned signature, which is a function of its task's
        `fingerprint` and its id: the status cache keeps that."""
        if self._folder is not None:
            self._folder.confirm(fingerprint)

    def check_job(self, job: Job) -> Found:
        """`check` of a job with outputs on a custom file system: from its `Job`, read every time."""
        self._folder = None
        folder, _, present = self._present(job.workdir)
        if not present:
            return _PENDING
        status = job_status(job)
        if status is JobStatus.PENDING:
            folder.missed()
        else:
            folder.found += 1
        return (status, read_signature(job.workdir), False) if status is JobStatus.COMPLETE else (status, None, False)

    def save(self) -> None:
        self.close()
        self._cache.save()

    def close(self) -> None:
        for folder in self._folders.values():
            if folder.fd is not None:
                os.close(folder.fd)
                folder.fd = None
        self._folders.clear()

