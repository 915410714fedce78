"""`ExitCode`: what the `hypermetric` command (and `hypermetric.api` callers who mirror it) exits with."""

from __future__ import annotations

import signal
from enum import IntEnum


class ExitCode(IntEnum):
    """0 success; 1 a job failed; 2 a user error (usage, syntax, names, targets, cycles, and ordinary faults of
    the environment such as a read-only root or an unreachable cluster); 128 + the signal's number when a
    signal stopped the command; 70 only for a bug in hypermetric."""

    OK = 0
    JOB_FAILED = 1
    USER_ERROR = 2
    INTERNAL_ERROR = 70
    HANGUP = 128 + signal.SIGHUP
    INTERRUPTED = 128 + signal.SIGINT
    TERMINATED = 128 + signal.SIGTERM

    @classmethod
    def for_signal(cls, signum: int) -> ExitCode:
        """The code of a command stopped by signal `signum` (SIGINT, SIGTERM or SIGHUP)."""
        return cls(128 + int(signum))
