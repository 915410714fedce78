"""What an evaluator does per batch besides scoring it, counted: the batch's row-id span comes from its row
ids as the worker sent them (a range, usually), not from its table's column converted back to Python."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq

from hypermetric.runtime.parts.sink import SPANS_KEY, PartSink, list_parts


def _table(ids: list[int]) -> pa.Table:
    return pa.table({"row_id": pa.array(ids, pa.int64()), "output": [1] * len(ids),
                     "error": pa.nulls(len(ids), pa.string()), "attempts": [1] * len(ids)})


def _spans(directory) -> list[list[int]]:
    [part] = list_parts(directory)
    return json.loads(pq.read_schema(part).metadata[SPANS_KEY])


def test_a_batch_whose_row_ids_are_a_range_is_not_read_back_from_its_table(tmp_path):
    sink = PartSink(tmp_path, 1, "e000g000", flush_rows=100, flush_bytes=10**9)
    # The table's own column says otherwise: the span can only have come from the range.
    sink.add(0, _table([0, 0, 0]), row_ids=range(10, 13))
    sink.add(1, _table([20, 22]), row_ids=[20, 22])
    sink.flush()
    assert _spans(tmp_path) == [[10, 12, 3], [20, 22, 2]]


def test_without_row_ids_the_span_is_read_from_the_table(tmp_path):
    sink = PartSink(tmp_path, 1, "e000g000", flush_rows=100, flush_bytes=10**9)
    sink.add(0, _table([3, 4]))
    sink.add(1, _table([]), row_ids=range(0))
    sink.flush()
    assert _spans(tmp_path) == [[3, 4, 2], [0, -1, 0]]
    unordered = PartSink(tmp_path / "other", 1, "e000g000", flush_rows=100, flush_bytes=10**9)
    unordered.add(0, _table([5, 2]), row_ids=[5, 2])
    unordered.flush()
    assert SPANS_KEY not in pq.read_schema(list_parts(tmp_path / "other")[0]).metadata
