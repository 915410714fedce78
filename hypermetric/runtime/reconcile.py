"""Reconciliation: every part of every run into one `results.parquet`, each row once, sorted by row id.

Parts are read window by window of row ids (using the row-id range in each part's footer), so memory follows
the window size and not the dataset size. Where a row was recorded more than once (an evaluator that died
after a flush was sent the batch again, or a failed row re-run by a later run), the last part wins.
"""

from __future__ import annotations

import itertools
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from hypermetric.runtime import columns as cols
from hypermetric.runtime.sink import RESULTS, list_parts
from hypermetric.runtime.summary import MetricSummary

if TYPE_CHECKING:
    import pyarrow as pa

WINDOW_ROWS = 65_536
REPETITION_SAMPLE_ROWS = 4_096


@dataclass(frozen=True, slots=True)
class Reconciled:
    """The final table on disk and what the summary needs from it."""

    path: Path
    rows: int
    failed: int
    metrics: tuple[MetricSummary, ...]


@dataclass(frozen=True, slots=True)
class _Part:
    path: Path
    low: int
    high: int


@dataclass(slots=True)
class _Stats:
    rows: int = 0
    failed: int = 0
    sums: dict[str, float] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)

    def update(self, table: pa.Table) -> None:
        import pyarrow as pa
        import pyarrow.compute as pc

        self.rows += table.num_rows
        self.failed += table.num_rows - table[cols.ERROR].null_count
        for name in table.column_names:
            if cols.is_metric_column(name) and pa.types.is_floating(table.schema.field(name).type):
                column = table[name]
                self.sums[name] = self.sums.get(name, 0.0) + (pc.sum(column).as_py() or 0.0)
                self.counts[name] = self.counts.get(name, 0) + len(column) - column.null_count
        if cols.EVAL_ERRORS in table.column_names:
            for text in table[cols.EVAL_ERRORS].drop_null().to_pylist():
                for key in json.loads(text):
                    self.errors[key] = self.errors.get(key, 0) + 1

    def metrics(self) -> tuple[MetricSummary, ...]:
        names = sorted({*self.counts, *(key for key in self.errors if not self._has_column(key))})
        return tuple(MetricSummary(name, self._mean(name), self.counts.get(name, 0), self._errors(name))
                     for name in names)

    def _has_column(self, key: str) -> bool:
        return any(name == key or name.startswith(key + ".") for name in self.counts)

    def _mean(self, name: str) -> float | None:
        count = self.counts.get(name, 0)
        return self.sums[name] / count if count else None

    def _errors(self, name: str) -> int:
        return sum(n for key, n in self.errors.items() if name == key or name.startswith(key + "."))


def _part(path: Path) -> _Part:
    import pyarrow.parquet as pq

    metadata = pq.read_metadata(path)
    index = metadata.schema.to_arrow_schema().get_field_index(cols.ROW_ID)
    lows, highs = [], []
    for group in range(metadata.num_row_groups):
        statistics = metadata.row_group(group).column(index).statistics
        lows.append(statistics.min)
        highs.append(statistics.max)
    return _Part(path, min(lows, default=0), max(highs, default=-1))


def _latest(pieces: list[pa.Table], schema: pa.Schema) -> pa.Table:
    """The pieces stacked (oldest part first), sorted by row id, keeping the last copy of a repeated row."""
    import pyarrow as pa
    import pyarrow.compute as pc

    table = pa.concat_tables(pieces) if pieces else schema.empty_table()
    ids = table[cols.ROW_ID].combine_chunks()
    if len(ids) < 2 or pc.all(pc.less(ids.slice(0, len(ids) - 1), ids.slice(1))).as_py():
        return table  # already in order, each row once (one evaluator, one run: the common case)
    order = pc.sort_indices(ids)  # a stable sort: copies of a row stay in part order
    ids = ids.take(order)
    if len(ids) > 1:
        last = pc.not_equal(ids.slice(0, len(ids) - 1), ids.slice(1))  # where the next row id differs
        if not pc.all(last).as_py():
            order = order.filter(pa.concat_arrays([last, pa.array([True])]))
    return table.take(order)


def _windows(parts: list[_Part], schema: pa.Schema) -> Iterator[pa.Table]:
    """The rows window by window of WINDOW_ROWS row ids; each part is read once, and kept only while the
    windows still overlap its row-id range."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    by_low = sorted(range(len(parts)), key=lambda i: parts[i].low)
    active: dict[int, pa.Table] = {}
    position, low = 0, min((part.low for part in parts), default=0)
    while position < len(by_low) or active:
        high = low + WINDOW_ROWS
        while position < len(by_low) and parts[by_low[position]].low < high:
            index = by_low[position]
            active[index] = cols.conform(pq.ParquetFile(parts[index].path).read(), schema)
            position += 1
        pieces = []
        for index in sorted(active):  # the order of the parts' names, so that later parts win
            table, part = active[index], parts[index]
            if part.low < low or part.high >= high:
                ids = table[cols.ROW_ID]
                table = table.filter(pc.and_(pc.greater_equal(ids, low), pc.less(ids, high)))
            pieces.append(table)
        for index in [index for index in active if parts[index].high < high]:
            del active[index]
        if pieces:
            yield _latest(pieces, schema)
        low = high if active or position == len(by_low) else max(high, parts[by_low[position]].low)


def reconcile(output_dir: Path) -> Reconciled:
    """Writes `output_dir/results.parquet` from all parts and returns its path and summary statistics."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    parts = [_part(path) for path in list_parts(output_dir)]
    schema = cols.unify_schema(pq.read_schema(part.path) for part in parts)
    if not parts:
        schema = pa.schema([(cols.ROW_ID, pa.int64()), (cols.ERROR, pa.string()),
                            (cols.ATTEMPTS, pa.int64())])
    path = output_dir / RESULTS
    temporary = path.with_name(f".{path.name}.tmp")
    stats = _Stats()
    windows = _windows(parts, schema)
    first = next(windows, schema.empty_table())
    with pq.ParquetWriter(temporary, schema, use_dictionary=_repetitive(first)) as writer:
        for table in itertools.chain([first], windows):
            writer.write_table(table)
            stats.update(table)
    os.replace(temporary, path)
    return Reconciled(path, stats.rows, stats.failed, stats.metrics())


def _repetitive(table: pa.Table) -> list[str]:
    """The text columns worth dictionary-encoding: fewer distinct values than half their rows, judged on the
    first rows. (Encoding a column of unique values costs several times the write and gains nothing.)"""
    import pyarrow as pa
    import pyarrow.compute as pc

    sample = table.slice(0, REPETITION_SAMPLE_ROWS)
    return [field.name for field in sample.schema
            if (pa.types.is_string(field.type) or pa.types.is_binary(field.type))
            and pc.count_distinct(sample[field.name]).as_py() * 2 <= sample.num_rows]
