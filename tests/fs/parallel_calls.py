"""Running independent file-system calls at once: each aws or ssh call costs about a second to start."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any


def concurrently(*calls: Callable[[], Any]) -> list[Any]:
    """The results of `calls`, run in parallel threads (the first exception is raised)."""
    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        futures = [pool.submit(call) for call in calls]
        return [f.result() for f in futures]
