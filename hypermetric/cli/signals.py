"""The command line's side of signals: SIGTERM and SIGHUP stop a command the way Ctrl-C does
(`execution.interrupts`), and the command exits with 128 + the number of the signal that stopped it: 130,
143 or 129. The first signal counts: a Ctrl-C while a SIGTERM is being handled does not change the code.
"""

from __future__ import annotations

import signal

from hypermetric.execution.interrupts import Terminated, first_signal, interrupts, signal_of
from hypermetric.exitcode import ExitCode

__all__ = ["CommandInterrupted", "Terminated", "exit_code", "interrupts"]


class CommandInterrupted(Exception):
    """An interrupt that stopped a command, carried past typer to the command line, which says so and exits
    with the signal's code: typer turns a `KeyboardInterrupt` into a silent exit 130, even for SIGTERM."""

    def __init__(self, interrupt: KeyboardInterrupt) -> None:
        super().__init__("interrupted")
        self.interrupt = interrupt
        self.signum = signal_of(interrupt)  # what `exit_code` reads, as of a `Terminated`


def exit_code(exc: BaseException | None = None) -> int:
    """128 + the number of the first signal that interrupted the command (`exc`'s, else SIGINT's)."""
    signum = first_signal() or (signal_of(exc) if exc is not None else signal.SIGINT)
    return ExitCode.for_signal(signum)
