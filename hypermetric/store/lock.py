"""Per-job locks on `<workdir>/.lock` (D25): a kernel lock via `filelock`, so a killed holder never blocks.

The holder writes `pid@host` into the lock file so that a waiting process can say who it waits for, and
unlinks the file before releasing it, so that a finished job directory holds no `.lock` (§4.4). A waiter that
wins the lock on an inode that was unlinked meanwhile lets go and tries again on the fresh file.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from filelock import FileLock, Timeout

from hypermetric.errors import StoreError
from hypermetric.store.layout import LOCK

if TYPE_CHECKING:
    from hypermetric.plan.job import Job

WaitCallback = Callable[[str], None]
_HOST = socket.gethostname()


class LockWaitCancelled(StoreError):
    """The wait for a job lock was given up because the run is being cancelled."""


def lock_path(job: Job) -> str:
    return os.path.join(job.workdir, LOCK)


def holder(path: str) -> str:
    """`pid@host` of the process that holds (or last held) the lock file, or `another process`."""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read(200).strip()
    except OSError:
        text = ""
    return f"process {text}" if text else "another process"


def acquire(path: str, *, on_wait: WaitCallback | None = None, interval: float = 5.0,
            cancelled: Callable[[], bool] | None = None) -> FileLock:
    """Take the lock file at `path`, waiting as long as it takes.

    While waiting, `on_wait(message)` is called at once and then every `interval` seconds; when `cancelled()`
    turns true the wait ends with `LockWaitCancelled`.
    """
    lock = FileLock(path)
    started = time.monotonic()
    next_message = started
    timeout = 0.0
    while True:
        try:
            lock.acquire(timeout=timeout, poll_interval=min(0.05, interval))
        except Timeout:
            if cancelled is not None and cancelled():
                raise LockWaitCancelled(f"gave up waiting for {path}") from None
            now = time.monotonic()
            if on_wait is not None and now >= next_message:
                on_wait(f"waiting for {path} held by {holder(path)} ({now - started:.0f} s)")
                next_message = now + interval
            timeout = min(interval, 0.5) if cancelled is not None else interval
            continue
        if _still_linked(lock, path):
            _write_holder(path)
            return lock
        lock.release()


def release(lock: FileLock, path: str) -> None:
    """Unlink the lock file, then let go of the kernel lock."""
    try:
        os.unlink(path)
    except OSError:
        pass
    lock.release()


@contextmanager
def job_lock(job: Job, *, on_wait: WaitCallback | None = None, interval: float = 5.0,
             cancelled: Callable[[], bool] | None = None) -> Iterator[None]:
    """Hold the lock of `job` (its directory must exist) for the duration of the block."""
    path = lock_path(job)
    lock = acquire(path, on_wait=on_wait, interval=interval, cancelled=cancelled)
    try:
        yield
    finally:
        release(lock, path)


def is_locked(job: Job) -> bool:
    """True when another process holds the lock of `job` right now."""
    path = lock_path(job)
    if not os.path.exists(path):
        return False
    lock = FileLock(path)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        return True
    lock.release()
    return False


def unlock(job: Job) -> bool:
    """Remove a leftover lock file of `job` (for file systems without kernel locks); True if there was one."""
    try:
        os.unlink(lock_path(job))
    except FileNotFoundError:
        return False
    return True


def _still_linked(lock: FileLock, path: str) -> bool:
    # filelock >= 4 checks this itself; older versions may hand us a lock on an inode already unlinked.
    fd = getattr(getattr(lock, "_context", None), "lock_file_fd", None)
    if fd is None:
        return True
    try:
        return os.fstat(fd).st_ino == os.stat(path).st_ino
    except OSError:
        return False


def _write_holder(path: str) -> None:
    try:
        with open(path, "w", encoding="utf-8") as f:
            f.write(f"{os.getpid()}@{_HOST}")
    except OSError:
        pass
