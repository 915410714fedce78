"""Reconciliation: every part of every run into one `results.parquet`, each row once, sorted by row id.

In the common case (one run, no evaluator lost) no row id was recorded twice: the batches, whose row-id spans
each part's footer lists, are laid end to end in row-id order, and the summary adds up the tallies in the
parts' footers. Otherwise parts are read window by window of row ids (using the row-id range in each part's
footer), so memory follows the window size and not the dataset size; where a row was recorded more than once
(an evaluator that died after a flush was sent the batch again, or a failed row re-run by a later run), the
last part wins.
"""

from __future__ import annotations

import concurrent.futures
import itertools
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from hypermetric.runtime.parts.arrow_memory import small_pages, system_pool
from hypermetric.runtime.parts.free_memory import give_back_free_memory
from hypermetric.runtime.parts.sink import RESULTS, SPANS_KEY, TALLY_KEY, list_parts
from hypermetric.runtime.parts.tally import Tally, tally_table
from hypermetric.runtime.result import columns as cols
from hypermetric.runtime.result.summary import MetricSummary

if TYPE_CHECKING:
    import pyarrow as pa

# Rows laid out (and written as one row group) at a time. The pieces of a window keep their parts loaded until
# it is written; with 65,536 rows the reconciling process's memory rose for the first six windows or so (a
# step between 400,000 and 600,000 rows), with 32,768 it stays level (89-91 against 97 MB at 1,000,000 rows,
# 84 at 100,000), at the same CPU.
WINDOW_ROWS = 32_768
MAX_OPEN_ROWS = 262_144  # rows of parts held at once while laying batches end to end
PREFETCH_PARTS = 2  # parts read ahead meanwhile
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
    spans: list[tuple[int, int, int]] | None  # its batches' (first row id, last row id, rows), in part order


@dataclass(slots=True)
class _Footers:
    """What the parts' footers say together: their unified schema, and the sum of their tallies if each has
    one."""

    schema: pa.Schema
    tally: Tally | None


def _read_footers(paths: list[Path]) -> tuple[list[_Part], _Footers]:
    schemas: list[pa.Schema] = []
    tally: Tally | None = Tally()
    parts = []
    for path in paths:
        part, schema, part_tally = _part(path)
        parts.append(part)
        schemas.append(schema)
        if tally is not None and part_tally is not None:
            tally.add(part_tally)
        else:
            tally = None
    return parts, _Footers(cols.unify_schema(schemas), tally)


def _part(path: Path) -> tuple[_Part, pa.Schema, Tally | None]:
    import pyarrow.parquet as pq

    metadata = pq.read_metadata(path)
    schema = metadata.schema.to_arrow_schema()
    index = schema.get_field_index(cols.ROW_ID)
    lows, highs = [], []
    for group in range(metadata.num_row_groups):
        statistics = metadata.row_group(group).column(index).statistics
        lows.append(statistics.min)
        highs.append(statistics.max)
    recorded = schema.metadata or {}
    tally = Tally.from_json(recorded[TALLY_KEY]) if TALLY_KEY in recorded else None
    spans = [tuple(span) for span in json.loads(recorded[SPANS_KEY])] if SPANS_KEY in recorded else None
    return _Part(path, min(lows, default=0), max(highs, default=-1), spans), schema, tally


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
    give_back_free_memory()  # what the run freed, before this holds its windows
    with system_pool(), small_pages():
        return _reconcile(output_dir)


def _reconcile(output_dir: Path) -> Reconciled:
    import pyarrow as pa
    import pyarrow.parquet as pq

    parts, footers = _read_footers(list_parts(output_dir))
    schema = footers.schema
    if not parts:
        schema = pa.schema([(cols.ROW_ID, pa.int64()), (cols.ERROR, pa.string()),
                            (cols.ATTEMPTS, pa.int64())])
    path = output_dir / RESULTS
    temporary = path.with_name(f".{path.name}.tmp")
    # Where no row was recorded twice (one run, no evaluator lost: the common case), the batches are cut from
    # their parts and laid end to end in row-id order, and the parts' tallies add up to the table's own;
    # otherwise rows are merged window by window, and tallied as they are written.
    spans = _spans_in_order(parts) if footers.tally is not None else None
    tally = footers.tally if spans is not None and footers.tally is not None else Tally()
    tables = _laid_end_to_end(parts, spans, schema) if spans is not None else _windows(parts, schema)
    first = next(tables, None)
    if first is None:  # built only when needed: an empty table loads pandas where it is installed
        first = schema.empty_table()
    with pq.ParquetWriter(temporary, schema, use_dictionary=_repetitive(first)) as writer:
        for table in itertools.chain([first], tables):
            writer.write_table(table)
            if spans is None:
                tally.add(tally_table(table))
    os.replace(temporary, path)
    return Reconciled(path, tally.rows, tally.failed, tally.metrics())


@dataclass(frozen=True, slots=True, order=True)
class _Span:
    first: int
    last: int
    part: int  # index in the parts
    offset: int  # its first row's position in the part
    rows: int


def _spans_in_order(parts: list[_Part]) -> list[_Span] | None:
    """Every batch of every part in row-id order, or None if they cannot simply be laid end to end: a part
    without spans, two batches sharing a row id, or parts so interleaved that more than MAX_OPEN_ROWS rows
    would be held at once."""
    spans: list[_Span] = []
    sizes: list[int] = []  # each part's rows
    for index, part in enumerate(parts):
        if part.spans is None:
            return None
        sizes.append(sum(rows for _, _, rows in part.spans))
        offsets = itertools.accumulate((rows for _, _, rows in part.spans), initial=0)
        spans.extend(_Span(first, last, index, offset, rows)
                     for (first, last, rows), offset in zip(part.spans, offsets) if rows)
    spans.sort()
    if any(before.last >= after.first for before, after in itertools.pairwise(spans)):
        return None
    last_use = {span.part: position for position, span in enumerate(spans)}
    open_rows, opened = 0, set()
    for position, span in enumerate(spans):
        if span.part not in opened:
            opened.add(span.part)
            open_rows += sizes[span.part]
            if open_rows > MAX_OPEN_ROWS:
                return None
        if last_use[span.part] == position:
            open_rows -= sizes[span.part]
    return spans


def _laid_end_to_end(parts: list[_Part], spans: list[_Span], schema: pa.Schema) -> Iterator[pa.Table]:
    """The batches in row-id order, in tables of about WINDOW_ROWS rows; each part is read once and kept
    until its last batch is out."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    def read(index: int) -> pa.Table:
        return cols.conform(pq.ParquetFile(parts[index].path).read(), schema)

    last_use = {span.part: position for position, span in enumerate(spans)}
    order = list(dict.fromkeys(span.part for span in spans))  # the parts in the order they are needed
    loaded: dict[int, pa.Table] = {}
    pieces: list[pa.Table] = []
    rows = 0
    # The next parts are read in a thread while this one lays out batches and the caller writes them.
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as reader:
        reading: dict[int, concurrent.futures.Future[pa.Table]] = {}
        needed = 0  # parts needed so far: order[:needed]
        for position, span in enumerate(spans):
            if span.part not in loaded:
                needed += 1
                for index in order[len(reading) + needed - 1:needed + PREFETCH_PARTS]:
                    reading[index] = reader.submit(read, index)
                loaded[span.part] = reading.pop(span.part).result()
            pieces.append(loaded[span.part].slice(span.offset, span.rows))
            rows += span.rows
            if last_use[span.part] == position:
                del loaded[span.part]
            if rows >= WINDOW_ROWS:
                yield pa.concat_tables(pieces)
                pieces, rows = [], 0
    if pieces:
        yield pa.concat_tables(pieces)


def _repetitive(table: pa.Table) -> list[str]:
    """The text columns worth dictionary-encoding: fewer distinct values than half their rows, judged on the
    first rows. (Encoding a column of unique values costs several times the write and gains nothing.)"""
    import pyarrow as pa

    sample = table.slice(0, REPETITION_SAMPLE_ROWS)
    return [field.name for field in sample.schema
            if (pa.types.is_string(field.type) or pa.types.is_binary(field.type))
            and len(set(sample[field.name].to_pylist())) * 2 <= sample.num_rows]
