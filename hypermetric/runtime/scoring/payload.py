"""`BatchPayload`: what a worker sends an evaluator for one batch, its rows' results and its components'
calls; it travels between processes as Arrow IPC bytes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hypermetric.runtime.scoring.context import MetricColumns
from hypermetric.runtime.scoring.metric import Calls

if TYPE_CHECKING:
    import pyarrow as pa


@dataclass(frozen=True, slots=True)
class BatchPayload:
    """A worker's results for one batch: the rows' result columns as an Arrow table (built by the worker, so
    that evaluators, often fewer than the workers, only score and write) and the calls its components made
    (evaluation requests), for an evaluator to score.

    Pickled (sent to an evaluator in another process), the table travels as Arrow IPC bytes: a few
    microseconds to write and read, where pickling an Arrow table as Ray does costs more than building it."""

    batch_id: int
    failed: int  # rows whose call failed
    results: pa.Table  # row_id first, then the result columns
    calls: dict[str, Calls]  # component -> its calls
    specs: dict[str, MetricColumns]  # component -> its metrics
    fields: dict[str, list[Any]]  # the dataset columns the metrics read

    def __len__(self) -> int:
        return self.results.num_rows

    def __reduce__(self) -> tuple[Any, ...]:
        import pyarrow as pa

        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, self.results.schema) as writer:
            writer.write_table(self.results)
        return _from_ipc, (self.batch_id, self.failed, sink.getvalue(), self.calls, self.specs, self.fields)


def _from_ipc(batch_id: int, failed: int, results: Any, *rest: Any) -> BatchPayload:
    import pyarrow as pa

    return BatchPayload(batch_id, failed, pa.ipc.open_stream(results).read_all(), *rest)
