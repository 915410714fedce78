"""`Task`: raygent's unit of work, one `do()` over a batch, runnable over a whole list on its own.

A task computes one value from a batch (a dict where it has several things to return) and never calls another
task; anything that must happen once per worker goes in `__init__`, since each Ray worker gets its own copy of
the instance. `Task.run` is a one-node DAG: the data in batches, `n_workers` actors (by default as many as
the CPUs Ray sees) or this process alone, and the results back in batch order.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from typing import Any

from hypermetric.flow.messages import BatchMessage


class Task(ABC):
    """Subclass it and define `do(self, batch, **kwargs)` (or `do(self, a, b)` for a node with two inputs);
    a subclass without `do` cannot be instantiated."""

    @abstractmethod
    def do(self, *batches: Any, **kwargs: Any) -> Any:
        """The result of one batch (one argument per input node)."""

    def run_batch(self, index: int, *batches: Any, **kwargs: Any) -> BatchMessage:
        """`do()` on one batch, with the batch's index kept beside its result."""
        return BatchMessage(index, self.do(*batches, **kwargs))

    def run(self, *data: Iterable[Any], batch_size: int = 10, parallel: bool = True,
            n_workers: int | None = None, n_cpu_per_worker: float | None = None,
            task_kwargs: Mapping[str, Any] | None = None, prebatched: bool = False,
            max_inflight: int | None = None) -> list[Any]:
        """`do()` on every batch of `data` (one iterable per argument of `do()`, cut alike), in parallel on Ray
        actors or, with `parallel=False`, in this process; one result per batch, in the data's order.

        At most `max_inflight` batches (default: two per worker, one running and one queued) are read from
        the data and held at once. A failure raises `NodeFailed` naming the batch."""
        from hypermetric.flow.dag import DAG

        dag = DAG(parallel=parallel)
        sources = [dag.add_source() for _ in data]
        node = dag.add(self, inputs=tuple(source for source, _ in sources), task_kwargs=task_kwargs,
                       name=type(self).__name__, n_workers=n_workers if parallel else 1,
                       n_cpu_per_worker=n_cpu_per_worker)
        sink = dag.add_sink(node)
        results: dict[int, Any] = {}
        with dag:
            dag.start()
            inflight = max_inflight or 2 * dag.workers(node)
            for _, message in dag.stream(*data, source_queues=[queue for _, queue in sources], sink_queues=[sink],
                                         batch_size=batch_size, prebatched=prebatched, max_inflight=inflight):
                results[message.index] = message.payload
        return [results[index] for index in range(len(results))]
