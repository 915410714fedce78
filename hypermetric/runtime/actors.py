"""`RayPool`: worker actors (a stateless pool running batches) and evaluator actors (stateful: score, flush).

Ray is imported only when a pool is made. The driver joins the cluster named by `RAY_ADDRESS` when it is set
(`ray.init(address="auto")` semantics) and otherwise starts a local one; an initialised Ray is reused as is.
Actors are not restarted by Ray: the driver replaces a dead one and sends again what it held.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Callable, Collection
from typing import Any

from hypermetric.runtime.execute import BatchPayload, CallPlan, RetryPolicy, run_batch
from hypermetric.runtime.pool import ActorLost, BatchStatus, EvaluatorConfig, PayloadLost, status_of
from hypermetric.runtime.sharding import RowBatch


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
    else:
        ray.init(include_dashboard=False)


class WorkerActor:
    """Runs batches of rows through the user's function; keeps nothing between batches."""

    def __init__(self, fn: Callable[..., Any], plan: CallPlan, retry: RetryPolicy) -> None:
        self._fn, self._plan, self._retry = fn, plan, retry

    def run(self, batch: RowBatch) -> tuple[BatchStatus, BatchPayload]:
        payload = run_batch(self._fn, self._plan, self._retry, batch)
        return status_of(payload), payload


class EvaluatorActor:
    """An `Evaluator` in its own process: scores requests, buffers rows and flushes them to Parquet."""

    def __init__(self, config: EvaluatorConfig, index: int, generation: int) -> None:
        self._evaluator = config.make(index, generation)

    def ingest(self, payload: BatchPayload) -> list[int]:
        return self._evaluator.ingest(payload)

    def close(self) -> list[int]:
        return self._evaluator.close()


@functools.cache
def _remote_classes() -> tuple[Any, Any]:
    import ray

    return ray.remote(max_restarts=0)(WorkerActor), ray.remote(max_restarts=0)(EvaluatorActor)


class RayPool:
    """Worker and evaluator actors on a Ray cluster, behind the `Pool` interface."""

    def __init__(self, fn: Callable[..., Any], plan: CallPlan, retry: RetryPolicy, workers: int,
                 evaluators: int, config: EvaluatorConfig, num_cpus: float | None) -> None:
        import ray

        ensure_ray()
        self._worker_class, self._evaluator_class = _remote_classes()
        self._config = config
        self._worker_options: dict[str, Any] = {"scheduling_strategy": "SPREAD"}
        if num_cpus is not None:
            self._worker_options["num_cpus"] = num_cpus
        # The function, plan and policy go to the object store once and every worker reads them from there.
        self._worker_args = (ray.put(fn), ray.put(plan), ray.put(retry))
        # Evaluators first: they take Ray's pre-started worker processes, since every batch waits on them.
        self.evaluators = [self._evaluator_class.remote(config, index, 0) for index in range(evaluators)]
        self.workers = [self._new_worker() for _ in range(workers)]

    def _new_worker(self) -> Any:
        return self._worker_class.options(**self._worker_options).remote(*self._worker_args)

    def run(self, worker: int, batch: RowBatch) -> tuple[Any, Any]:
        status, payload = self.workers[worker].run.options(num_returns=2).remote(batch)
        return status, payload

    def ingest(self, evaluator: int, payload: Any) -> Any:
        return self.evaluators[evaluator].ingest.remote(payload)

    def close(self, evaluator: int) -> Any:
        return self.evaluators[evaluator].close.remote()

    def wait(self, handles: Collection[Any]) -> list[Any]:
        import ray

        ready, _ = ray.wait(list(handles), num_returns=1)
        more, _ = ray.wait(list(handles), num_returns=len(handles), timeout=0)
        return list(dict.fromkeys([*ready, *more]))

    def result(self, handle: Any) -> Any:
        import ray
        from ray import exceptions

        try:
            return ray.get(handle)
        except exceptions.RayActorError as error:
            if error.actor_init_failed:  # e.g. the function's module cannot be imported where the actor runs
                raise RuntimeError(f"the runtime's actors could not start: {_plain(error)}") from None
            raise ActorLost(_plain(error)) from error
        except exceptions.ObjectLostError as error:
            raise PayloadLost(_plain(error)) from error
        except exceptions.RayTaskError as error:
            raise error.as_instanceof_cause() from None

    def replace_worker(self, worker: int) -> None:
        self._kill(self.workers[worker])
        self.workers[worker] = self._new_worker()

    def replace_evaluator(self, evaluator: int, generation: int) -> None:
        self._kill(self.evaluators[evaluator])
        self.evaluators[evaluator] = self._evaluator_class.remote(self._config, evaluator, generation)

    def shutdown(self) -> None:
        for actor in [*self.workers, *self.evaluators]:
            self._kill(actor)

    @staticmethod
    def _kill(actor: Any) -> None:
        import ray

        try:
            ray.kill(actor, no_restart=True)
        except Exception:  # already gone: nothing left to stop
            return
