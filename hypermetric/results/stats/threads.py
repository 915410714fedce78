"""Independent pieces of a statistic computed on threads, one per CPU.

Resampling is numpy work that releases the interpreter lock (drawing indices, gathering, summing), so the
groups of a significance test run side by side on threads. Each group draws from its own generator,
seeded by its position, so the answer does not depend on which thread ran it or when.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def cpus() -> int:
    """The CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def map_in_threads(function: Callable[[T], R], items: Iterable[T]) -> list[R]:
    """`[function(item) for item in items]`, on up to one thread per CPU when there are several items."""
    work = list(items)
    workers = min(len(work), cpus())
    if workers < 2:
        return [function(item) for item in work]
    from concurrent.futures import ThreadPoolExecutor

    pool = ThreadPoolExecutor(workers, thread_name_prefix="hypermetric-stats")
    try:
        return list(pool.map(function, work))
    finally:
        # After a failure or Ctrl-C, the groups not started are dropped rather than computed for nothing.
        pool.shutdown(wait=True, cancel_futures=True)
