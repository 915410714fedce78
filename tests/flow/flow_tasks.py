"""Tasks the flow tests run, in process and on Ray; raygent's README example, with only its imports changed."""

from __future__ import annotations

import os
from typing import Any

from typing_extensions import override  # typing.override is Python 3.12+

from hypermetric.flow import DAG, Task

# ---- raygent's README, verbatim but for the imports ----


class SquareTask(Task):
    @override
    def do(self, batch: list[int]) ->  list[int]:
        return [item ** 2 for item in batch]

class PrefactorTask(Task):
    @override
    def do(self, batch: list[int], factor: int = 1) -> list[int]:
        return [factor * x for x in batch]

class CombineTask(Task):
    @override
    def do(self, a: list[int], b: list[int]) -> dict[str, list[int]]:
        return {"a": a, "b": b}

class SumTask(Task):
    @override
    def do(self, batch: dict[str, list[int]]) ->  list[int]:
        return [a + b for a, b in zip(batch["a"], batch["b"])]


def readme_example(parallel: bool) -> list[tuple[int, int, Any]]:
    """The README's DAG and stream; returns what it printed as `(sink #, batch index, payload)`."""
    printed = []
    dag = DAG(parallel=parallel)

    # Add source nodes we can send data into the DAG
    # Returns a source node and queue
    source_n1, source_1 = dag.add_source()
    source_n2, source_2 = dag.add_source()

    # Add fully-connected nodes to process our workflow
    #   Top
    prefactor_n = dag.add(PrefactorTask(), inputs=source_n1, task_kwargs={"factor": 2})
    square_n1 = dag.add(SquareTask(), inputs=prefactor_n)
    #   Bottom
    square_n2 = dag.add(SquareTask(), inputs=source_n2)
    #   Merged
    comb = dag.add(CombineTask(), inputs=(square_n1, square_n2))
    summed = dag.add(SumTask(), inputs=comb)

    # Attach sinks to get data out of our DAG
    sink_1 = dag.add_sink(summed)
    sink_2 = dag.add_sink(square_n2)

    data1 = [1, 2, 3, 4]  # For source_1
    data2 = [5, 6, 7, 8]  # For source_2

    # Workflow starts waiting for source messages
    dag.start()

    # Streams data into sources and collects any sink messages
    # Order of data specifies which source queue it goes into
    for q_idx, msg in dag.stream(
        data1,
        data2,
        source_queues=(source_1, source_2),
        sink_queues=(sink_1, sink_2),
        batch_size=2,
        max_inflight=100,
        sink_wait=0.01,
    ):
        printed.append((q_idx, msg.index, msg.payload))

    # Releases all resources by terminating all DAG nodes
    dag.stop()
    return printed


README_PAYLOADS = {0: [[29, 52], [85, 128]], 1: [[25, 36], [49, 64]]}  # sink_1's, then sink_2's


def by_sink(printed: list[tuple[int, int, Any]]) -> dict[int, list[Any]]:
    """Each sink's payloads in batch order (sinks deliver in the order batches finish)."""
    return {sink: [payload for s, _, payload in sorted(printed, key=lambda m: m[1]) if s == sink]
            for sink in sorted({s for s, _, _ in printed})}


# ---- tasks for the other tests ----


class Scale(Task):
    """Multiplies a NumPy array, or each number of a list."""

    def do(self, batch: Any, by: float = 2) -> Any:
        return batch * by if hasattr(batch, "dtype") else [x * by for x in batch]


class TableStats(Task):
    """Takes an Arrow table; returns a new one with a derived column."""

    def do(self, table: Any) -> Any:
        import pyarrow.compute as pc

        return table.append_column("double", pc.multiply(table.column("x"), 2))


class Pid(Task):
    def do(self, batch: list[int]) -> tuple[int, list[int]]:
        return os.getpid(), batch


class FailOn(Task):
    """Raises on the batch whose first item is `bad`; with `die`, ends its worker process instead."""

    def __init__(self, bad: int, die: bool = False) -> None:
        self.bad, self.die = bad, die

    def do(self, batch: list[int]) -> list[int]:
        if batch[0] == self.bad:
            if self.die:
                os._exit(3)
            raise ValueError(f"cannot take {self.bad}")
        return batch


class Counted:
    """An iterable of 0..n-1 that records how many items the stream has read from it so far."""

    def __init__(self, n: int) -> None:
        self.n, self.read = n, 0

    def __iter__(self):
        for item in range(self.n):
            self.read += 1
            yield item
