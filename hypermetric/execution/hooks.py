"""What a backend hands the job protocol and the code that starts a job's processes: how to run a job
(`JobOptions`), callbacks for the spawned process, lock waits and cancellation (`JobHooks`), and where job
output lines go (`OutputCallback`).

These types live apart from `protocol` so that `process`, `runners` and `fs_execute`, which `protocol` calls,
can name them without importing `protocol` back.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from hypermetric.plan.job import Job
from hypermetric.record import Record, setfield

OutputCallback = Callable[[Job, str, str], None]


class JobOptions(Record):
    """How to run a job: shell words, extra environment (below the job's variables), node, lock polling."""

    __slots__ = ("shell", "env", "node", "lock_interval", "base_env")
    shell: tuple[str, ...]
    env: tuple[tuple[str, str], ...]
    node: str | None
    lock_interval: float
    base_env: Mapping[str, str] | None  # the parent environment; None: this process's, read per job

    def __init__(self, shell: tuple[str, ...] = ("bash", "-e"), env: tuple[tuple[str, str], ...] = (),
                 node: str | None = None, lock_interval: float = 5.0,
                 base_env: Mapping[str, str] | None = None) -> None:
        setfield(self, "shell", shell)
        setfield(self, "env", env)
        setfield(self, "node", node)
        setfield(self, "lock_interval", lock_interval)
        setfield(self, "base_env", base_env)


class JobHooks(Record):
    """Callbacks a backend passes in: the spawned process, lock-wait messages, whether to give up, work to do
    while the job's script runs (`while_running`), and the job's directory if the backend made it ahead
    (`claim`: `staging.Staged` or None)."""

    __slots__ = ("on_spawn", "on_wait", "cancelled", "while_running", "claim")
    on_spawn: Callable[[object], None] | None
    on_wait: Callable[[str], None] | None
    cancelled: Callable[[], bool] | None
    while_running: Callable[[], None] | None
    claim: Callable[[Job], Any] | None  # a `staging.Staged` (not named here: it imports `process`)

    def __init__(self, on_spawn: Callable[[object], None] | None = None,
                 on_wait: Callable[[str], None] | None = None, cancelled: Callable[[], bool] | None = None,
                 while_running: Callable[[], None] | None = None,
                 claim: Callable[[Job], Any] | None = None) -> None:
        setfield(self, "on_spawn", on_spawn)
        setfield(self, "on_wait", on_wait)
        setfield(self, "cancelled", cancelled)
        setfield(self, "while_running", while_running)
        setfield(self, "claim", claim)
