"""`RayPool`: the stateless worker pool (Ray tasks that run batches) and the stateful evaluator actors.

Workers are tasks, not actors: a stateless batch needs no process of its own, so batches run on Ray's pooled
worker processes, which start once per cluster and stay warm between runs. Evaluators are actors because they
hold state (metrics set up once, rows buffered until a flush). Ray retries neither: the driver runs again a
batch whose worker process died, and replaces a dead evaluator and sends it again what the old one held.

Ray is imported only when a pool is made. The driver joins the cluster named by `RAY_ADDRESS` when it is set
(`ray.init(address="auto")` semantics) and otherwise starts a new local one; an initialised Ray is reused.
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
    else:  # "local": a new instance, even where `ray start` left a cluster that ray.init() would join
        ray.init(address="local", include_dashboard=False)


def run_batch_task(fn: Callable[..., Any], plan: CallPlan, retry: RetryPolicy,
                   batch: RowBatch) -> tuple[BatchStatus, BatchPayload]:
    """A worker: runs one batch; returns its status (small, for the driver) and payload (for an evaluator)."""
    payload = run_batch(fn, plan, retry, batch)
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
def _remote() -> tuple[Any, Any]:
    import ray

    task = ray.remote(num_returns=2, max_retries=0)(run_batch_task)
    return task, ray.remote(max_restarts=0)(EvaluatorActor)


class RayPool:
    """Worker tasks and evaluator actors on a Ray cluster, behind the `Pool` interface."""

    def __init__(self, fn: Callable[..., Any], plan: CallPlan, retry: RetryPolicy, evaluators: int,
                 config: EvaluatorConfig, num_cpus: float | None) -> None:
        import ray

        ensure_ray()
        task, self._evaluator_class = _remote()
        self._config = config
        # Evaluators first: an actor takes a process of its own, best one Ray has already started.
        self.evaluators = [self._evaluator_class.remote(config, index, 0) for index in range(evaluators)]
        self._task = task if num_cpus is None else task.options(num_cpus=num_cpus)
        # The function, plan and policy go to the object store once; every task reads them from there.
        self._arguments = (ray.put(fn), ray.put(plan), ray.put(retry))

    def run(self, worker: int, batch: RowBatch) -> tuple[Any, Any]:
        status, payload = self._task.remote(*self._arguments, batch)
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
        """Nothing to do: the next batch runs on whichever worker process Ray has (or starts)."""

    def replace_evaluator(self, evaluator: int, generation: int) -> None:
        self._kill(self.evaluators[evaluator])
        self.evaluators[evaluator] = self._evaluator_class.remote(self._config, evaluator, generation)

    def committed_by(self, evaluator: int, generation: int) -> set[int]:
        return self._config.committed_by(evaluator, generation)

    def shutdown(self) -> None:
        for actor in self.evaluators:
            self._kill(actor)

    @staticmethod
    def _kill(actor: Any) -> None:
        import ray

        try:
            ray.kill(actor, no_restart=True)
        except Exception:  # already gone: nothing left to stop
            return
