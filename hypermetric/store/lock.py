"""Per-job locks on `<workdir>/.lock`: a kernel lock, so a holder that dies never blocks.

On POSIX the lock is `flock(2)` on `.lock`, taken directly: it is the lock `filelock.FileLock` takes on the
same file (so the two interoperate), without the library's per-acquire bookkeeping, which costs about as much
CPU as the rest of a no-op job's protocol. Elsewhere `filelock.FileLock` is used. The holder writes
`pid@host` into the file so a waiting process can say whom it waits for, and unlinks the file before letting
go, so a finished job directory holds no `.lock`; a waiter that wins the lock on an inode unlinked meanwhile
lets go and tries again on the fresh file. The kernel lock belongs to the open file, not to the process: a
job's script inherits it, so a job whose runner was killed stays locked until its own processes have ended.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from hypermetric.errors import StoreError, about_path
from hypermetric.store.layout import LOCK

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX
    fcntl = None  # type: ignore[assignment]  # Windows: `filelock` takes over

if TYPE_CHECKING:
    from hypermetric.plan.job import Job

WaitCallback = Callable[[str], None]


def _hostname() -> str:
    """What `socket.gethostname()` answers (on POSIX the node name of `uname`), without importing `socket`."""
    if hasattr(os, "uname"):
        return os.uname().nodename
    import socket  # pragma: no cover - not POSIX

    return socket.gethostname()  # pragma: no cover - not POSIX


HOST = _hostname()
_POLL = 0.05
# What a holder writes into the lock file, made once per process rather than asking for the pid per job; a
# forked child (a worker pool's) makes its own.
_HOLDER: list[bytes] = []


def _holder_text() -> bytes:
    if not _HOLDER:
        _HOLDER.append(f"{os.getpid()}@{HOST}".encode())
    return _HOLDER[0]


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_HOLDER.clear)


class LockWaitCancelled(StoreError):
    """The wait for a job lock was given up because the run is being cancelled."""


class Held:
    """A lock this process holds: the open lock file (POSIX) or the `filelock` object."""

    __slots__ = ("path", "fd", "fallback")

    def __init__(self, path: str, fd: int | None, fallback: object | None = None) -> None:
        self.path, self.fd, self.fallback = path, fd, fallback


def lock_path(job: Job) -> str:
    return os.path.join(job.workdir, LOCK)


def holder(path: str) -> str:
    """`process pid@host` that holds (or last held) the lock file, or `another process`."""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read(200).strip()
    except OSError:
        text = ""
    return f"process {text}" if text else "another process"


def try_acquire(path: str) -> Held | None:
    """One attempt to take the lock file at `path` (creating it); None when someone else holds it."""
    if fcntl is None:  # pragma: no cover - not POSIX
        return _try_filelock(path)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    size = _linked_size(fd, path)
    if size is None:
        os.close(fd)
        return None
    try:
        with about_path(path):
            _write_holder(fd, size)
    except OSError:
        release(Held(path, fd))  # a full disk: let go of the lock rather than leak it
        raise
    return Held(path, fd)


def acquire(path: str, *, on_wait: WaitCallback | None = None, interval: float = 5.0,
            cancelled: Callable[[], bool] | None = None, make_dir: bool = False) -> Held:
    """Take the lock file at `path`, waiting as long as it takes.

    While waiting, `on_wait(message)` is called at once and then every `interval` seconds; when `cancelled()`
    turns true the wait ends with `LockWaitCancelled`. When the lock's directory is missing (or was removed
    by the holder the wait was for), `make_dir` creates it again; else `FileNotFoundError` is raised.
    """
    started = time.monotonic()
    next_message = started
    while True:
        try:
            held = try_acquire(path)
        except FileNotFoundError:
            if not make_dir:
                raise
            os.makedirs(os.path.dirname(path), exist_ok=True)
            continue
        if held is not None:
            return held
        if cancelled is not None and cancelled():
            raise LockWaitCancelled(f"gave up waiting for {path}")
        now = time.monotonic()
        if on_wait is not None and now >= next_message:
            on_wait(f"lock {path} is held by {holder(path)} ({now - started:.0f} s)")
            next_message = now + interval
        time.sleep(_POLL)


def release(held: Held) -> None:
    """Unlink the lock file, then let go of the kernel lock."""
    try:
        os.unlink(held.path)
    except OSError:
        pass
    if held.fd is not None:
        os.close(held.fd)
    else:  # pragma: no cover - not POSIX
        _release_fallback(held)


@contextmanager
def job_lock(job: Job, *, on_wait: WaitCallback | None = None, interval: float = 5.0,
             cancelled: Callable[[], bool] | None = None) -> Iterator[None]:
    """Hold the lock of `job` (its directory must exist) for the duration of the block."""
    held = acquire(lock_path(job), on_wait=on_wait, interval=interval, cancelled=cancelled)
    try:
        yield
    finally:
        release(held)


def is_locked(job: Job) -> bool:
    """True when a process holds the lock of `job` right now."""
    path = lock_path(job)
    if not os.path.exists(path):
        return False
    held = try_acquire(path)
    if held is None:
        return True
    if held.fd is not None:
        os.close(held.fd)
    else:  # pragma: no cover - not POSIX
        _release_fallback(held)
    return False


def unlock(job: Job) -> bool:
    """Remove a leftover lock file of `job` (for file systems without kernel locks); True if there was one.

    A lock some process holds is refused (`StoreError`): removing its file would let another run start the
    job beside the one still running.
    """
    path = lock_path(job)
    if not os.path.lexists(path):  # nothing to do, so nothing to write: the root may be read-only
        return False
    if is_locked(job):
        raise StoreError(f"{job.label} is running: its lock {path} is held by {holder(path)}",
                         help="wait for it to end, or stop that process first")
    try:
        os.unlink(path)
    except FileNotFoundError:
        return False
    return True


def _linked_size(fd: int, path: str) -> int | None:
    """The size of the open lock file, or None when `path` no longer names it (unlinked or replaced)."""
    try:
        opened = os.fstat(fd)
        return opened.st_size if opened.st_ino == os.stat(path).st_ino else None
    except OSError:
        return None


def _write_holder(fd: int, had: int) -> None:
    """Write `pid@host` over the lock file's `had` bytes.

    Never truncate to zero: on ext4 that makes the close flush the file to disk (auto_da_alloc), which costs
    milliseconds per job. A fresh lock file is empty; an old one is cut to the new text's length."""
    data = _holder_text()
    os.pwrite(fd, data, 0)
    if had > len(data):
        os.ftruncate(fd, len(data))


def _try_filelock(path: str) -> Held | None:  # pragma: no cover - not POSIX
    from filelock import FileLock, Timeout

    lock = FileLock(path)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        return None
    return Held(path, None, lock)


def _release_fallback(held: Held) -> None:  # pragma: no cover - not POSIX
    from filelock import FileLock

    assert isinstance(held.fallback, FileLock)
    held.fallback.release()
