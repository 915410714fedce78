"""The `Backend` protocol: where jobs run; the engine and the scheduler are the same for every backend."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from hypermetric.plan.job import Job

if TYPE_CHECKING:  # a type only: what names a backend need not import how jobs are run
    from hypermetric.execution.protocol import JobOutcome

OutputSink = Callable[[Job, str, str], None]
WaitSink = Callable[[Job, str], None]
StartSink = Callable[[Job, int], None]


@runtime_checkable
class Backend(Protocol):
    """Runs jobs. `start` must not block for the job's duration; `wait_any` returns finished attempts.

    Output lines and lock-wait messages go to callbacks given to the backend when it is made; they may be
    called from any thread (the engine serialises them). A backend that queues jobs it was handed (Ray) may
    also take a start callback and set `reports_start`; the engine then shows a job as running only when
    that callback says its script has started, instead of when it is handed over. Such a backend may also
    set `queue_ahead` (how many ordinary jobs beyond the run's slots it can hold queued, each begun as soon as
    one of its workers is free); it then begins none after a failure until the engine, having settled what
    `wait_any` returned, calls `go_on()`, or `withdraw()` (the run stopped: the jobs not begun end `withdrawn`).
    """

    def gpu_count(self) -> int:
        """GPUs the scheduler may hand out (asked only when some job wants GPUs)."""
        ...

    def start(self, job: Job, attempt: int) -> object:
        """Begin running one attempt of `job`; returns an opaque handle."""
        ...

    def wait_any(self, timeout: float | None = None) -> list[JobOutcome]:
        """Block until at least one started attempt has finished (or `timeout` passes); all finished ones."""
        ...

    def cancel_all(self) -> None:
        """Stop every running job (Ctrl-C): they end as interrupted (PENDING), never as done."""
        ...

    def close(self) -> None:
        """Release the backend's resources; no job is running when the engine calls this."""
        ...
