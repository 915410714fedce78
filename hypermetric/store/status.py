"""Job status from disk: complete ⇔ `exitcode` reads 0 and every output exists (one open, one stat each).

An output on a custom file system is checked with that file system's `exists`, as the first step of running a job does; when such a check
cannot run (`FileSystemError`, `OSError`), the job is not complete and its reason says so.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from enum import Enum
from typing import TYPE_CHECKING

from hypermetric.errors import FileSystemError
from hypermetric.store.layout import EXITCODE

if TYPE_CHECKING:
    from hypermetric.plan.job import Job

CHECK_ERROR = "error encountered when checking status of outputs"
CheckErrors = (FileSystemError, OSError)


class JobStatus(Enum):
    """The one status vocabulary of every command (HyperMake's words, with QUEUED for jobs waiting for a slot,
    SKIPPED for jobs after a failed upstream, and OUTDATED for finished jobs whose signature or inputs changed,
    see store/staleness.py), each with its symbol and a style name. SUCCESS is a job finished in this run,
    COMPLETE one found done."""

    PENDING = ("PENDING", "•", "job.pending")
    QUEUED = ("QUEUED", "•", "job.queued")       # `run` starts it when a slot (or a Ray worker) frees up
    WAITING = ("WAITING", ">", "job.waiting")
    RUNNING = ("RUNNING", ">", "job.running")
    COMPLETE = ("COMPLETE", "•", "job.complete")
    SUCCESS = ("SUCCESS", "•", "job.ok")
    FAILED = ("FAILED", "×", "job.failed")
    SKIPPED = ("SKIPPED", "-", "job.skipped")
    OUTDATED = ("OUTDATED", "~", "job.outdated")   # finished, but made from something that has changed

    def __init__(self, label: str, symbol: str, style: str) -> None:
        self.label = label
        self.symbol = symbol
        self.style = style

    def __str__(self) -> str:
        return self.label


def read_exitcode(workdir: str) -> int | None:
    """The recorded exit code: None when there is no `exitcode` file or it is empty, -1 when it is garbled
    (as HM). An empty one is being written (a runner creates it, then writes the code) or was left by a
    runner killed in between: no run of the job has finished."""
    try:
        fd = os.open(f"{workdir}/{EXITCODE}", os.O_RDONLY)
    except OSError:
        return None
    try:
        data = os.read(fd, 32)
    finally:
        os.close(fd)
    if data == b"0":  # what a successful job writes: most of a large, mostly finished tensor
        return 0
    if not data:
        return None
    try:
        return int(data.strip())
    except ValueError:
        return -1


def missing_outputs(job: Job) -> list[tuple[str, str]]:
    """The `(name, relative path)` outputs of `job` that do not exist (a dangling symlink is missing).

    Outputs on a custom file system are asked of its `exists`; that may raise `FileSystemError`/`OSError`.
    """
    workdir = job.workdir
    if not job.output_fs:
        return [(name, rel) for name, rel in job.outputs if not os.path.exists(os.path.join(workdir, rel))]
    return [(name, rel) for name, rel in job.outputs if not _output_exists(job, name, rel)]


def _output_exists(job: Job, name: str, rel: str) -> bool:
    fs = job.output_file_system(name)
    if fs == "local":
        return os.path.exists(os.path.join(job.workdir, rel))
    from hypermetric.store import fscall  # a custom file system's shell functions: not needed for local jobs

    return fscall.exists(job.file_system(fs), f"{job.relpath}/{rel}")


def is_complete(job: Job) -> bool:
    """Complete ⇔ `exitcode` reads 0 and every output exists; a check that fails makes the job not complete."""
    return read_exitcode(job.workdir) == 0 and _outputs_present(job)


def _outputs_present(job: Job) -> bool:
    """Every output exists; a failing check on a custom file system: not present."""
    if job.output_fs:
        try:
            return not missing_outputs(job)
        except CheckErrors:
            return False
    return local_outputs_present(job.workdir, [rel for _, rel in job.outputs])


def local_outputs_present(workdir: str, outputs: Iterable[str]) -> bool:
    """Every output (a path relative to `workdir` on this machine) exists."""
    return outputs_present(workdir, None, outputs)


def outputs_present(path: str, fd: int | None, outputs: Iterable[str]) -> bool:
    """Whether every output of the job folder `path` (relative to the folder descriptor `fd`, if any) exists;
    `access` follows links as `stat` does (a dangling symlink is missing)."""
    access = os.access
    for rel in outputs:
        try:
            if not access(f"{path}/{rel}", os.F_OK, dir_fd=fd):
                return False
        except ValueError:
            return False
    return True


def job_status(job: Job) -> JobStatus:
    """COMPLETE, FAILED (an `exitcode` is recorded but the job is not complete) or PENDING.

    A job directory without `exitcode` (never finished, interrupted, or invalidated) is PENDING.
    """
    code = read_exitcode(job.workdir)
    if code is None:
        return JobStatus.PENDING
    if code == 0 and _outputs_present(job):
        return JobStatus.COMPLETE
    return JobStatus.FAILED


def job_statuses(jobs: Iterable[Job]) -> Iterator[JobStatus]:
    """`job_status` of each job; each task's directory is listed once, so the jobs that never ran (most of
    a large fresh tensor) cost no failed `open` each."""
    listings: dict[str, Listing] = {}
    for job in jobs:
        parent, _, name = job.workdir.rpartition("/")
        listing = listings.get(parent)
        if listing is None:
            listing = listings[parent] = Listing(parent)
        yield job_status(job) if name in listing else JobStatus.PENDING


class Listing:
    """Which names a folder held when it was listed, in two bits or so per name: a name it held is always
    found; one it did not is found now and then, which costs the caller only a check that fails. `bits`:
    the bits and the mask of a name's hash, for a caller that checks a million names."""

    __slots__ = ("_bits", "_mask", "bits")

    def __init__(self, folder: str) -> None:
        try:
            names = os.listdir(folder)
        except OSError:
            names = []
        size = 64
        while size < 16 * len(names):
            size *= 2
        bits, mask = bytearray(size >> 3), size - 1
        for h in map(hash, names):
            h &= mask
            bits[h >> 3] |= 1 << (h & 7)
        self._bits, self._mask = bits, mask
        self.bits = bits, mask

    def __contains__(self, name: object) -> bool:
        h = hash(name) & self._mask
        return bool(self._bits[h >> 3] >> (h & 7) & 1)


def exit_reason(code: int) -> str:
    """`exit code 3 ≠ 0`."""
    return f"exit code {code} ≠ 0"


def outputs_reason(missing: list[tuple[str, str]], job: Job | None = None) -> str:
    """`output {o = "o"@local} missing`, or the plural form listing every missing output."""
    def fs(name: str) -> str:
        return job.output_file_system(name) if job is not None else "local"
    items = ", ".join(f'{name} = "{rel}"@{fs(name)}' for name, rel in missing)
    noun = "output" if len(missing) == 1 else "outputs"
    return f"{noun} {{{items}}} missing"


def failure_reason(job: Job) -> str | None:
    """Why a recorded run of `job` is not complete; None when it is complete or was never recorded."""
    code = read_exitcode(job.workdir)
    if code is None:
        return None
    if code != 0:
        return exit_reason(code)
    try:
        missing = missing_outputs(job)
    except CheckErrors:
        return CHECK_ERROR
    return outputs_reason(missing, job) if missing else None
