"""How the runtime's Arrow work gets its memory: which pool, and which pages.

Pool: Arrow's default pool on Linux (mimalloc) spends about 0.1-0.2 s warming up in a fresh process (its first
tables and Parquet reads and writes run at a third of their later speed), which every short run pays in every
process. The system allocator has no such cost and is as fast afterwards for the runtime's batch-sized tables.
The runtime's own processes (workers, evaluators) use it throughout; in the caller's process, reconciliation
uses it while it runs and then gives the caller back the default it had.

Pages: Arrow's C++ code (Parquet's buffers, decompression) keeps allocating from mimalloc whatever the Python
default pool is, and mimalloc asks for transparent huge pages and hands freed memory back to the kernel soon
after. Each 2 MiB page faulted in is zeroed first: on virtual machines that back guest memory lazily (such as
Firecracker, where this was measured) that costs milliseconds a page, and reconciling 100,000 rows took
0.15 s of which 0.1 s was the kernel zeroing pages, against 0.06 s with ordinary pages. So writing a part and
reconciling fault in ordinary pages (Linux's per-process PR_SET_THP_DISABLE, put back as it was after: the
user's own code, wherever it runs, keeps huge pages; elsewhere than Linux nothing changes).

Both are process-wide settings; `hypermetric.process_wide` lists them with the library's other such changes.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import sys
from collections.abc import Iterator

_PR_SET_THP_DISABLE = 41
_PR_GET_THP_DISABLE = 42


def use_system_pool() -> None:
    """Makes the system allocator this process's default Arrow pool (for processes the runtime owns)."""
    import pyarrow as pa

    pa.set_memory_pool(pa.system_memory_pool())


@contextlib.contextmanager
def system_pool() -> Iterator[None]:
    """The system allocator as the default Arrow pool for the duration of the block. (Arrays remember the pool
    they came from, so those made inside are freed correctly after.)"""
    import pyarrow as pa

    previous = pa.default_memory_pool()
    pa.set_memory_pool(pa.system_memory_pool())
    try:
        yield
    finally:
        pa.set_memory_pool(previous)


@functools.cache
def _libc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None


def _prctl(option: int, value: int = 0) -> int | None:
    """`prctl(option, value)` on Linux; None elsewhere or where it fails."""
    libc = _libc()
    prctl = getattr(libc, "prctl", None)
    if prctl is None:
        return None
    result = prctl(option, value, 0, 0, 0)
    return None if result < 0 else int(result)


@contextlib.contextmanager
def small_pages() -> Iterator[None]:
    """No transparent huge pages for memory this process faults in during the block."""
    previous = _prctl(_PR_GET_THP_DISABLE)
    if previous is None or previous:  # not Linux, or already off
        yield
        return
    _prctl(_PR_SET_THP_DISABLE, 1)
    try:
        yield
    finally:
        _prctl(_PR_SET_THP_DISABLE, 0)
