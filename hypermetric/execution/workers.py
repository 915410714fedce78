"""A fixed set of worker threads running submitted calls, in the order submitted.

What the local runner needs of `concurrent.futures.ThreadPoolExecutor` (threads made as work arrives, up to a
limit, and joined on shutdown), without its futures, whose module imports `logging` and `traceback`: a run of
one job would import them for nothing.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Any


class Workers:
    """Up to `count` threads, each taking the next submitted call; a call that raises ends nothing but itself
    (the callers catch what they expect)."""

    def __init__(self, count: int, name: str) -> None:
        self._count = max(1, count)
        self._name = name
        self._queue: queue.SimpleQueue[tuple[Callable[..., Any], tuple[Any, ...]] | None] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._idle = 0
        self._unfinished = 0  # calls submitted and not yet returned
        self._mutex = threading.Lock()

    def submit(self, fn: Callable[..., Any], *args: Any) -> None:
        with self._mutex:
            self._unfinished += 1
            if self._idle > 0:
                self._idle -= 1  # an idle thread takes it
            elif len(self._threads) < self._count:
                thread = threading.Thread(target=self._loop, name=f"{self._name}_{len(self._threads)}", daemon=True)
                self._threads.append(thread)
                thread.start()
        self._queue.put((fn, args))

    def unfinished(self) -> int:
        """How many submitted calls have not returned yet (queued or running)."""
        with self._mutex:
            return self._unfinished

    def shutdown(self) -> None:
        """Let every thread finish the calls submitted so far, then end."""
        for _ in self._threads:
            self._queue.put(None)
        for thread in self._threads:
            thread.join()
        self._threads.clear()

    def _loop(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            fn, args = item
            try:
                fn(*args)
            except BaseException:  # the caller's own handler runs inside `fn`: this only keeps the thread
                pass
            with self._mutex:
                self._idle += 1
                self._unfinished -= 1
