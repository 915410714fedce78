"""The backend a run uses: the one `RunOptions.backend` names, made when it is first needed (a run whose jobs
are all done never starts Ray nor the local runner's threads)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from hypermetric.errors import UsageError
from hypermetric.execution.backend import Backend, OutputSink, StartSink, WaitSink
from hypermetric.execution.choice import choose_backend
from hypermetric.plan.job import Job

if TYPE_CHECKING:
    from hypermetric.execution.protocol import JobOutcome


class BackendOptions(Protocol):
    """What of a run's options (`engine.RunOptions`) makes its backend."""

    backend: str | Backend
    jobs: int
    shell: tuple[str, ...]
    lock_interval: float
    grace: float
    machines: tuple
    ray_address: str | None


def make_backend(options: BackendOptions, on_output: OutputSink | None, on_wait: WaitSink | None,
                 on_start: StartSink | None = None) -> Backend:
    """The backend `options.backend` names (a given `Backend` instance is used as it is); `on_start` goes to
    a backend that queues the jobs it is handed (Ray), to say when each one really starts."""
    choice = options.backend
    if not isinstance(choice, str):
        return choice
    choice = choose_backend(choice, ray_address=options.ray_address, machines=options.machines)
    if choice == "local":
        def make_local() -> Backend:
            from hypermetric.execution.local import LocalBackend

            return LocalBackend(options.jobs, shell=options.shell, on_output=on_output, on_wait=on_wait,
                                lock_interval=options.lock_interval, grace=options.grace,
                                on_start=on_start or _nobody_listens)

        # The local backend says when each job begins (`on_start`), so it may be handed jobs ahead.
        return OnFirstUse(make_local, reports_start=True, queue_ahead=max(1, options.jobs))
    if choice == "remote":
        from hypermetric.execution.remote import RemoteBackend

        if not options.machines:
            raise UsageError("the remote backend needs machines to run the jobs on",
                             help="pass RunOptions(machines=...) (`run --machines FILE` on the command line)")
        return RemoteBackend(options.machines, shell=options.shell, on_output=on_output, on_wait=on_wait,
                             lock_interval=options.lock_interval, grace=options.grace)
    if choice == "ray":
        def make_ray() -> Backend:
            try:
                from hypermetric.execution.ray_backend import RayBackend
            except ImportError as e:
                raise UsageError(f"the ray backend is not available: {e}") from None
            return RayBackend(options.jobs, shell=options.shell, on_output=on_output, on_wait=on_wait,
                              lock_interval=options.lock_interval, grace=options.grace, on_start=on_start,
                              address=options.ray_address)

        return OnFirstUse(make_ray, reports_start=on_start is not None)
    raise UsageError(f"unknown backend {choice!r}", help="use one of: auto, local, ray, remote")


class OnFirstUse:
    """A backend made when it is first needed: a run whose jobs are all done never connects to (or starts)
    a Ray cluster, which takes seconds, nor imports the local runner and starts its threads."""

    def __init__(self, make: Callable[[], Backend], reports_start: bool = False, queue_ahead: int = 0) -> None:
        self._make = make
        self._backend: Backend | None = None
        self.reports_start = reports_start
        self.queue_ahead = queue_ahead

    def _get(self) -> Backend:
        if self._backend is None:
            self._backend = self._make()
        return self._backend

    def gpu_count(self) -> int:
        return self._get().gpu_count()

    def start(self, job: Job, attempt: int) -> object:
        return self._get().start(job, attempt)

    def stage_ahead(self, job_id: str, jobs: list[Job]) -> None:
        """Passed on to a backend that makes job directories ahead (the local one), else nothing."""
        stage = getattr(self._get(), "stage_ahead", None)
        if stage is not None:
            stage(job_id, jobs)

    def wait_any(self, timeout: float | None = None) -> list[JobOutcome]:
        return [] if self._backend is None else self._backend.wait_any(timeout)

    def idle(self) -> bool:
        """Whether the backend has nothing left to report (see `LocalBackend.idle`); False when it cannot
        tell."""
        idle = getattr(self._backend, "idle", None)
        return self._backend is None or (idle is not None and idle())

    def withdraw(self) -> None:
        """Passed on to a backend that holds jobs queued ahead (`queue_ahead`)."""
        if self._backend is not None:
            self._backend.withdraw()  # type: ignore[attr-defined]  # given only with `queue_ahead`

    def go_on(self) -> None:
        """Passed on to a backend that holds jobs queued ahead (`queue_ahead`)."""
        if self._backend is not None:
            self._backend.go_on()  # type: ignore[attr-defined]  # given only with `queue_ahead`

    def cancel_all(self) -> None:
        if self._backend is not None:
            self._backend.cancel_all()

    def close(self) -> None:
        if self._backend is not None:
            self._backend.close()


def _nobody_listens(job: Job, attempt: int) -> None:
    """The start callback of a run without events: a backend that reports starts needs one."""
