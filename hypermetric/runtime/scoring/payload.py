"""`BatchPayload`: what a worker sends an evaluator for one batch, its rows' results and its components'
calls, as plain Python columns; the evaluator turns them into Arrow."""

from __future__ import annotations

import operator
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hypermetric.runtime.result import columns as cols
from hypermetric.runtime.scoring.context import MetricColumns
from hypermetric.runtime.scoring.metric import Calls

if TYPE_CHECKING:
    import pyarrow as pa


@dataclass(frozen=True, slots=True)
class BatchPayload:
    """A worker's results for one batch: the rows' ids and result columns (lists, one value per row) and the
    calls its components made (evaluation requests), for an evaluator to score.

    The columns stay Python lists until the evaluator builds its table: a worker that only runs the user's
    function then never loads Arrow (nor what Arrow loads with it: pandas, where installed, costs a fresh
    process 0.3 s of CPU), and the lists pickle in one pass, sharing the objects that several columns hold."""

    batch_id: int
    failed: int  # rows whose call failed
    row_ids: Sequence[int]  # often a range
    columns: dict[str, list[Any]]  # result column -> its values
    calls: dict[str, Calls]  # component -> its calls
    specs: dict[str, MetricColumns]  # component -> its metrics
    fields: dict[str, list[Any]]  # the dataset columns the metrics read

    def __len__(self) -> int:
        return len(self.row_ids)

    def table(self) -> pa.Table:
        """The result columns as an Arrow table, with `row_id` first. Columns holding the very same values
        (the function's output and that of the component it returned from, typically) are converted once."""
        import pyarrow as pa

        data = {cols.ROW_ID: _row_ids(self.row_ids)}
        converted: list[tuple[list[Any], pa.Array]] = []
        for name, values in self.columns.items():
            if name == cols.ERROR:  # mostly no error at all: then no value needs looking at
                nulls = values.count(None) == len(values)
                data[name] = pa.nulls(len(values), pa.string()) if nulls else pa.array(values, pa.string())
            elif name == cols.ATTEMPTS:  # mostly one attempt each: one value repeated, not one read per row
                once = values.count(1) == len(values)
                data[name] = pa.repeat(pa.scalar(1, pa.int64()), len(values)) if once else \
                    pa.array(values, type=pa.int64())
            else:
                data[name] = _converted(values, converted)
        return pa.table(data)


def _row_ids(row_ids: Sequence[int]) -> pa.Array:
    """The row ids as an Arrow array; a batch's usual range is made in one step (numpy's `arange`, which Arrow
    takes without a copy) rather than from one Python integer per row: 2 against 58 microseconds for 1,000."""
    import pyarrow as pa

    if isinstance(row_ids, range) and row_ids.step == 1:
        import numpy as np

        return pa.array(np.arange(row_ids.start, row_ids.stop, dtype=np.int64))
    return pa.array(row_ids, type=pa.int64())


def _converted(values: list[Any], converted: list[tuple[list[Any], pa.Array]]) -> pa.Array:
    """`values` as an Arrow array: the one already made from the very same objects, if any."""
    for seen, array in converted:
        if seen is values or (len(seen) == len(values) and all(map(operator.is_, seen, values))):
            return array
    array = cols.to_array(values)
    converted.append((values, array))
    return array
