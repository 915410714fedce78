"""`RemoteBackend`: jobs spread over SSH machines, each running up to its own number of jobs at once.

The job protocol (lock, directory, scripts, `job.json`, `exitcode`) runs here, on the job directory; only the
script runs on the machine, through `remote_run`, which gathers what the script made back into the
directory. A job goes to the machine with the most free slots (the first listed on a tie); the scheduler's
slot count is the machines' total, so a machine never runs more than its own count.
"""

from __future__ import annotations

import sys
import threading

from hypermetric.execution.local import LocalBackend
from hypermetric.execution.protocol import JobOutcome
from hypermetric.execution.remote_config import Machine, check_login
from hypermetric.execution.remote_run import STOP_WAIT, machine_json
from hypermetric.plan.job import Job
from hypermetric.record import replace


def total_slots(machines: tuple[Machine, ...]) -> int:
    return sum(m.slots for m in machines)


class RemoteBackend(LocalBackend):
    """A `LocalBackend` whose job processes are `remote_run` on a chosen machine."""

    def __init__(self, machines: tuple[Machine, ...], **kw) -> None:
        for machine in machines:
            check_login(machine)
        # A stopped job's remote processes get `STOP_WAIT` seconds before SIGKILL, plus an SSH round trip;
        # the local process that runs the stop must not be killed before it is done.
        kw["grace"] = max(kw.get("grace", 5.0), STOP_WAIT + 7.0)
        super().__init__(total_slots(machines), gpus=0, **kw)
        self._machines = machines
        self._busy = [0] * len(machines)
        self._where: dict[str, int] = {}
        self._slots_lock = threading.Lock()

    def start(self, job: Job, attempt: int) -> str:
        index = self._take_slot(job.id)
        machine = self._machines[index]
        words = (sys.executable, "-m", "hypermetric.execution.remote_run", machine_json(machine))
        options = replace(self._options, shell=(*words, *self._options.shell), node=machine.name)
        if machine.connection.password is not None:
            options = replace(options, env=(("SSHPASS", machine.connection.password),))
        return self._dispatch(job, attempt, options)

    def wait_any(self, timeout: float | None = None) -> list[JobOutcome]:
        outcomes = super().wait_any(timeout)
        with self._slots_lock:
            for outcome in outcomes:
                index = self._where.pop(outcome.job_id, None)
                if index is not None:
                    self._busy[index] -= 1
        return outcomes

    def _take_slot(self, job_id: str) -> int:
        with self._slots_lock:
            free = [m.slots - busy for m, busy in zip(self._machines, self._busy)]
            index = max(range(len(free)), key=lambda i: (free[i], -i))
            self._busy[index] += 1
            self._where[job_id] = index
        return index
