"""SIGTERM and SIGHUP stop a run the way Ctrl-C does, and the run says which signal stopped it.

Python turns SIGINT into `KeyboardInterrupt`. Inside `interrupts()`, SIGTERM and SIGHUP raise `Terminated`,
a `KeyboardInterrupt` too that carries the signal's number, so every place that cleans up after Ctrl-C (the
engine stops every job's process group and runs the services' `stop`) does the same for them, and the run's
report keeps the number (`RunReport.signum`), so its exit code is 130, 143 or 129 as the signal was. The
command line wraps every command in it; a program that calls `hypermetric.api` can wrap its own calls the
same way. The handlers are installed only for the block (in the main thread; elsewhere it changes nothing)
and the previous ones are put back, so the program keeps its own.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

CAUGHT = (signal.SIGTERM, signal.SIGHUP)


class Terminated(KeyboardInterrupt):
    """Raised in the main thread, inside `interrupts()`, when the process receives SIGTERM or SIGHUP."""

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
    previous = {sig: signal.signal(sig, _handle) for sig in CAUGHT}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def first_signal() -> int | None:
    """The first SIGTERM or SIGHUP received inside the latest `interrupts()` block, if any."""
    return _State.first


def signal_of(exc: BaseException) -> int:
    """The signal behind an interrupt: a `Terminated`'s (or any exception's `signum`), else SIGINT's."""
    return int(getattr(exc, "signum", None) or signal.SIGINT)
