"""SIGTERM and SIGHUP stop a command the way Ctrl-C does, and the exit code says which signal it was.

Python turns SIGINT into `KeyboardInterrupt`; while a command runs, SIGTERM and SIGHUP raise `Terminated`, a
`KeyboardInterrupt` too, so every place that cleans up after Ctrl-C (the engine stops every job's process
group and runs the services' `stop`) does the same for them. The command then exits with 128 + the signal's
number: 130, 143 or 129. The handlers are installed only for the duration of the command and the previous
ones restored, so a program that calls the CLI in-process keeps its own.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

_CAUGHT = (signal.SIGTERM, signal.SIGHUP)


class Terminated(KeyboardInterrupt):
    """Raised in the main thread when the process receives SIGTERM or SIGHUP."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


class _State:
    first: int | None = None


def _handle(signum: int, frame: FrameType | None) -> None:
    if _State.first is None:
        _State.first = signum
    raise Terminated(signum)


@contextmanager
def interrupts() -> Iterator[None]:
    """Within the block (main thread only), SIGTERM and SIGHUP raise `Terminated`."""
    _State.first = None
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, _handle) for sig in _CAUGHT}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def exit_code(exc: BaseException | None = None) -> int:
    """128 + the number of the first signal that interrupted the command (`exc`'s, else SIGINT's)."""
    signum = _State.first or getattr(exc, "signum", None) or signal.SIGINT
    return 128 + int(signum)
