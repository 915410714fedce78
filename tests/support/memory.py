"""Counting the memory a call leaves allocated (tracemalloc), never timing it."""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def kept_by(call: Callable[[], T]) -> tuple[T, int]:
    """What `call` returned, and the bytes it allocated that were still allocated when it returned (its
    result included), by Python's allocator as tracemalloc sees it."""
    tracemalloc.start()
    try:
        before = tracemalloc.take_snapshot()
        result = call()
        after = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
    return result, sum(s.size_diff for s in after.compare_to(before, "filename"))
