"""What a backend hands the job protocol and the code that starts a job's processes: how to run a job
(`JobOptions`), callbacks for the spawned process, lock waits and cancellation (`JobHooks`), and where job
output lines go (`OutputCallback`).

These types live apart from `protocol` so that `process`, `runners` and `fs_execute`, which `protocol` calls,
can name them without importing `protocol` back.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from hypermetric.plan.job import Job

OutputCallback = Callable[[Job, str, str], None]


@dataclass(frozen=True, slots=True)
class JobOptions:
    """How to run a job: shell words, extra environment (below the job's variables), node, lock polling."""

    shell: tuple[str, ...] = ("bash", "-e")
    env: tuple[tuple[str, str], ...] = ()
    node: str | None = None
    lock_interval: float = 5.0
    base_env: Mapping[str, str] | None = None  # the parent environment; None: this process's, read per job


@dataclass(frozen=True, slots=True)
class JobHooks:
    """Callbacks a backend passes in: the spawned process, lock-wait messages, whether to give up, work to do
    while the job's script runs (`while_running`), and the job's directory if the backend made it ahead
    (`claim`: `staging.Staged` or None)."""

    on_spawn: Callable[[object], None] | None = None
    on_wait: Callable[[str], None] | None = None
    cancelled: Callable[[], bool] | None = None
    while_running: Callable[[], None] | None = None
    claim: Callable[[Job], Any] | None = None  # a `staging.Staged` (not named here: it imports `process`)
