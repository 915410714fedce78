"""Which jobs the Ray backend has handed to Ray ahead of their turn, and what becomes of each such task.

With `-j N`, the scheduler starts a job only when one of the N running ones has ended; if Ray then has no
task of that kind queued, the worker that ended goes back to the raylet and the next job waits for a new
lease, which costs the driver and Ray's daemons more than our whole job protocol. So the backend also hands
over the jobs the engine names as next (`stage_ahead`: the ready jobs that would start next, or those only a
starting job holds back), once per batch of starts, each behind the driver's start gate (`ray_gate`): a task
handed over ahead runs its job only after the scheduler has started that job (`adopt`, then `open`), never
otherwise.

Ray runs the tasks of one kind in the order they were handed over, so a task handed over ahead must never
stand in front of one the scheduler started: when the scheduler starts a job other than the oldest one handed
over ahead, the older ones are dropped (their gate answers no, and Ray is asked to cancel them if still
queued), and all of them when it starts a job that was not handed over at all (another kind, a retry). A
dropped task, or one lost before its job was started, is nobody's: its end is not an outcome of the run.
"""

from __future__ import annotations

from collections.abc import Container
from typing import Any

from hypermetric.execution.ray_gate import DROP, GO, GateServer
from hypermetric.plan.job import Job, Resources

PLAIN = Resources()   # only jobs of the default kind are handed over ahead: Ray's slots gate them alike


class Ahead:
    """The tasks handed over ahead: those not adopted yet in the order handed over, and every one's gate token
    until its end is settled."""

    def __init__(self, ray: Any, limit: int) -> None:
        self._ray = ray
        self.gate = GateServer()
        self._limit = max(1, limit)
        self._queued: dict[str, tuple[Any, int]] = {}   # job id -> (ref, token), not adopted, oldest first
        self._tokens: dict[Any, int] = {}                # ref -> token, of every such task not settled
        self._dropped: set[Any] = set()
        self._named: tuple[str, list[Job]] | None = None  # the job the engine starts next, and what follows
        self._pending: list[Job] = []                    # what was named at the starts since the last hand-over
        self._last = 0
        self._stopped = False

    def name(self, job_id: str, jobs: list[Job]) -> None:
        """The engine names the jobs that would start after `job_id`, which it starts next."""
        self._named = (job_id, jobs)

    def adopt(self, job: Job, attempt: int, ended: Container[Any]) -> Any | None:
        """The task handed over ahead for this attempt of `job`, now started by the scheduler (the caller opens
        its gate once it tracks it); None if there is none (then every task handed over ahead is dropped).
        Tasks handed over before it are dropped: Ray would run them first."""
        named, self._named = self._named, None
        if named is not None and named[0] == job.id and not self._stopped:
            self._pending.extend(named[1])
        entry = self._queued.get(job.id)
        if entry is None or attempt != 1 or entry[0] in ended:
            self.drop_all()
            return None
        for other in list(self._queued):
            if other == job.id:
                break
            self._drop(other)
        del self._queued[job.id]
        return entry[0]

    def open(self, ref: Any) -> None:
        self.gate.decide(self._tokens[ref], GO)

    def to_hand_over(self) -> list[tuple[Job, int]]:
        """The jobs named at the starts since the last call that are to be handed over now, each with its new
        gate token; the caller hands each to Ray and says so with `handed`."""
        out: list[tuple[Job, int]] = []
        seen: set[str] = set()
        for job in self._pending:
            if len(self._queued) + len(out) >= self._limit:
                break
            if job.id not in self._queued and job.id not in seen and job.resources == PLAIN:
                seen.add(job.id)
                self._last += 1
                out.append((job, self._last))
        self._pending = []
        return out

    def handed(self, job: Job, ref: Any, token: int) -> None:
        self._queued[job.id] = (ref, token)
        self._tokens[ref] = token

    def settle(self, ref: Any) -> bool:
        """A task has ended: True if it was handed over ahead and its job was never started (dropped, or lost
        before), so its end is nobody's outcome; False for any other task, which the caller settles."""
        token = self._tokens.pop(ref, None)
        if token is None:
            return False
        self.gate.forget(token)
        if ref in self._dropped:
            self._dropped.discard(ref)
            return True
        for job_id, (queued, _) in self._queued.items():
            if queued is ref:  # lost before its job started: the job is handed over again, or started anew
                del self._queued[job_id]
                return True
        return False

    def drop_all(self) -> None:
        for job_id in list(self._queued):
            self._drop(job_id)

    def stop(self) -> None:
        """Drop every task not adopted and hand nothing over any more (Ctrl-C)."""
        self._stopped = True
        self._pending = []
        self.drop_all()

    def close(self) -> None:
        """Drop every task not adopted and stop the gate: no task handed over ahead runs its job after this."""
        self.drop_all()
        self.gate.close()

    def _drop(self, job_id: str) -> None:
        ref, token = self._queued.pop(job_id)
        self._dropped.add(ref)
        if not self.gate.decide(token, DROP):  # not asking yet: perhaps still queued, which Ray can cancel
            try:
                self._ray.cancel(ref)
            except Exception:  # noqa: BLE001  # already ended or not cancellable: its gate answers no anyway
                pass
