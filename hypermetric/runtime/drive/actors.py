"""`RayPool`: the stateless worker pool and the stateful evaluator actors, on Ray.

Workers are actors that hold no state between batches but the function, plan and retry policy they read once
from the object store; `workers` of them run batches at once, and the driver keeps a worker's next batch queued
on it while it runs one, so no worker waits for a round trip through the driver. By default a worker takes
Ray's default actor resources (a CPU to be placed, none held while it runs: evaluation functions often wait on
I/O, and more workers than cores is then what one wants); with `num_cpus` each holds that many CPUs, and no
more workers are made than the cluster's CPUs can hold, so that none waits forever to be placed. Evaluators are actors because they hold state (metrics set up once, rows
buffered until a flush). Ray restarts and retries neither: the driver replaces a dead worker and runs its
batches again, and replaces a dead evaluator and sends the new one what the old one had not written.

Ray is imported only when a pool is made. The driver joins the cluster named by `RAY_ADDRESS` when it is set
(`ray.init(address="auto")` semantics) and otherwise starts a new local one; an initialised Ray is reused.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Callable, Collection
from typing import Any

from hypermetric.runtime.data.sharding import RowBatch
from hypermetric.runtime.drive.execute import CallPlan, run_batch
from hypermetric.runtime.drive.notices import FailureNotices
from hypermetric.runtime.drive.pool import (
    ActorLost,
    BatchStatus,
    EvaluatorConfig,
    PayloadLost,
    run_and_score,
    status_of,
)
from hypermetric.runtime.options import RetryPolicy
from hypermetric.runtime.parts.arrow_memory import use_system_pool
from hypermetric.runtime.parts.arrow_pandas import arrow_without_pandas
from hypermetric.runtime.scoring.payload import BatchPayload


def _plain(error: BaseException) -> str:
    """An error's message without the terminal colour codes Ray puts in it."""
    return re.sub(r"\x1b\[[0-9;]*m", "", str(error))


def ensure_ray() -> None:
    """Connects to Ray once: the cluster at RAY_ADDRESS if set, else a new local instance."""
    import ray

    if ray.is_initialized():
        return
    if os.environ.get("RAY_ADDRESS"):
        ray.init(address="auto")
    else:  # "local": a new instance, even where `ray start` left a cluster that ray.init() would join
        ray.init(address="local", include_dashboard=False)


def workers_that_fit(workers: int, num_cpus: float | None) -> int:
    """`workers`, or fewer where each holds `num_cpus` CPUs and the cluster has not enough for them all."""
    if not num_cpus:
        return workers
    import ray

    ensure_ray()
    total = ray.cluster_resources().get("CPU", 0.0)
    if total < num_cpus:
        raise ValueError(f"num_cpus={num_cpus:g}: the Ray cluster has {total:g} CPUs, not enough for one worker")
    return max(1, min(workers, int(total // num_cpus)))


class WorkerActor:
    """A worker: runs batches one at a time with the function, plan and retry policy it was made with (read
    from the object store once, however many batches it runs)."""

    def __init__(self, fn: Callable[..., Any], plan: CallPlan, retry: RetryPolicy,
                 notices: FailureNotices | None = None) -> None:
        # No Arrow here: a worker hands its evaluator plain columns (see BatchPayload).
        self._fn, self._plan, self._retry, self._notices = fn, plan, retry, notices

    def run(self, batch: RowBatch) -> tuple[BatchStatus, BatchPayload]:
        """The batch's status (small, for the driver) and its payload (for an evaluator)."""
        payload = run_batch(self._fn, self._plan, self._retry, batch, self._notices)
        return status_of(payload), payload


class EvaluatorActor:
    """An `Evaluator` in its own process: scores requests, buffers rows and flushes them to Parquet."""

    def __init__(self, config: EvaluatorConfig, index: int, generation: int) -> None:
        use_system_pool()
        arrow_without_pandas()
        self._evaluator = config.make(index, generation)

    def ingest(self, *payloads: BatchPayload) -> list[int]:
        """Scores and buffers batches (Ray hands them over as values: each is an argument of its own)."""
        return self._evaluator.ingest_all(payloads)

    def close(self) -> list[int]:
        return self._evaluator.close()


class ScoringWorkerActor(WorkerActor, EvaluatorActor):
    """A worker holding an evaluator (`evaluators=0`): scores the batches it runs in its own process, so that
    nothing is sent anywhere; it also takes batches another worker could not run (their failed rows)."""

    def __init__(self, fn: Callable[..., Any], plan: CallPlan, retry: RetryPolicy,
                 notices: FailureNotices | None, config: EvaluatorConfig, index: int, generation: int) -> None:
        WorkerActor.__init__(self, fn, plan, retry, notices)
        EvaluatorActor.__init__(self, config, index, generation)

    def run(self, batch: RowBatch) -> BatchStatus:  # type: ignore[override]  # scores too: a richer status
        return run_and_score(self._fn, self._plan, self._retry, batch, self._evaluator, self._notices)


@functools.cache
def _remote() -> tuple[Any, Any, Any]:
    import ray

    return (ray.remote(max_restarts=0)(WorkerActor), ray.remote(max_restarts=0)(ScoringWorkerActor),
            ray.remote(max_restarts=0)(EvaluatorActor))


class RayPool:
    """Worker and evaluator actors on a Ray cluster, behind the `Pool` interface; with `evaluators=0`, workers
    that score their own batches (`ScoringWorkerActor`), which are then the evaluators too."""

    def __init__(self, fn: Callable[..., Any], plan: CallPlan, retry: RetryPolicy, workers: int, evaluators: int,
                 config: EvaluatorConfig, num_cpus: float | None, notices: FailureNotices | None = None) -> None:
        import ray

        ensure_ray()
        worker_class, scoring_class, evaluator_class = _remote()
        self._config = config
        self.scores_in_workers = evaluators == 0
        # The function, plan and policy go to the object store once; every worker reads them from there (and
        # keeps its own copy of the notices, so that each reports an exception type once).
        self._arguments = (ray.put(fn), ray.put(plan), ray.put(retry), notices)
        self._worker_class = scoring_class if self.scores_in_workers else worker_class
        if num_cpus is not None:
            self._worker_class = self._worker_class.options(num_cpus=num_cpus)
        self._evaluator_class = evaluator_class
        # Evaluators first: placed while CPUs are free (they hold none afterwards), before workers take theirs.
        self.evaluators = [self._evaluator_class.remote(config, index, 0) for index in range(evaluators)]
        self.workers = [self._new_worker(index, 0) for index in range(workers)]
        if self.scores_in_workers:
            self.evaluators = self.workers  # the same actors (the list too, so that replacements show in both)
        self._runs: set[Any] = set()  # pending batch handles, to tell whose start failed

    def _new_worker(self, index: int, generation: int) -> Any:
        if self.scores_in_workers:
            return self._worker_class.remote(*self._arguments, self._config, index, generation)
        return self._worker_class.remote(*self._arguments)

    def run(self, worker: int, batch: RowBatch) -> tuple[Any, Any]:
        if self.scores_in_workers:
            status, payload = self.workers[worker].run.remote(batch), None
        else:
            status, payload = self.workers[worker].run.options(num_returns=2).remote(batch)
        self._runs.add(status)
        return status, payload

    def ingest(self, evaluator: int, payloads: list[Any]) -> Any:
        return self.evaluators[evaluator].ingest.remote(*payloads)

    def close(self, evaluator: int) -> Any:
        return self.evaluators[evaluator].close.remote()

    def wait(self, handles: Collection[Any]) -> list[Any]:
        import ray

        # Every handle already done in one call, else the first to finish: one round trip when the driver is
        # behind (as under load), two when it waits.
        pending = list(handles)
        ready, _ = ray.wait(pending, num_returns=len(pending), timeout=0)
        if not ready:
            ready, _ = ray.wait(pending, num_returns=1)
        return ready

    def result(self, handle: Any) -> Any:
        import ray
        from ray import exceptions

        is_run = handle in self._runs
        self._runs.discard(handle)
        try:
            return ray.get(handle)
        except exceptions.RayActorError as error:
            if error.actor_init_failed and is_run:  # e.g. the function cannot be loaded where it runs
                raise RuntimeError(f"the runtime's workers could not run the function: {_plain(error)}") from None
            if error.actor_init_failed:  # e.g. an evaluator's configuration cannot be loaded where it runs
                raise RuntimeError(f"the runtime's evaluators could not start: {_plain(error)}") from None
            raise ActorLost(_plain(error)) from error
        except exceptions.WorkerCrashedError as error:  # the process running a batch died
            raise ActorLost(_plain(error)) from error
        except exceptions.ObjectLostError as error:
            raise PayloadLost(_plain(error)) from error
        except exceptions.RaySystemError as error:  # e.g. the function cannot be loaded on the workers
            raise RuntimeError(f"the runtime's workers could not run the function: {_plain(error)}") from None
        except exceptions.RayTaskError as error:
            raise error.as_instanceof_cause() from None

    def replace_worker(self, worker: int) -> None:
        self._kill(self.workers[worker])
        self.workers[worker] = self._new_worker(worker, 0)

    def replace_evaluator(self, evaluator: int, generation: int) -> None:
        self._kill(self.evaluators[evaluator])
        if self.scores_in_workers:
            self.workers[evaluator] = self._new_worker(evaluator, generation)
        else:
            self.evaluators[evaluator] = self._evaluator_class.remote(self._config, evaluator, generation)

    def committed_by(self, evaluator: int, generation: int) -> set[int]:
        return self._config.committed_by(evaluator, generation)

    def shutdown(self) -> None:
        for actor in dict.fromkeys([*self.workers, *self.evaluators]):
            self._kill(actor)

    @staticmethod
    def _kill(actor: Any) -> None:
        import ray

        try:
            ray.kill(actor, no_restart=True)
        except Exception:  # already gone: nothing left to stop
            return
