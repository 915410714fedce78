"""Result parts on disk: buffered rows flushed to Parquet atomically at row or byte thresholds, and read back.

Layout of an output directory: `parts/part-RRRRR-WRITER-SSSSSS.parquet` (run number, writer, sequence) and the
final `results.parquet`. A part is written to a hidden temporary name and renamed, so a part either exists
whole or not at all; a row counts as recorded once a part holding it exists.
"""

from __future__ import annotations

import itertools
import json
import operator
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from hypermetric.runtime.data.sharding import RowSet
from hypermetric.runtime.parts.arrow_memory import small_pages
from hypermetric.runtime.parts.tally import Tally, tally_table
from hypermetric.runtime.result import columns as cols

if TYPE_CHECKING:
    import pyarrow as pa

PARTS = "parts"
RESULTS = "results.parquet"
_PART = re.compile(r"part-(\d+)-[A-Za-z0-9]+-\d+\.parquet")
BATCH_IDS_KEY = b"hypermetric.batch_ids"  # a part's schema metadata: the batches it holds, comma-separated
TALLY_KEY = b"hypermetric.tally"  # ... its rows' `Tally`, as JSON
SPANS_KEY = b"hypermetric.spans"  # ... each batch's (first row id, last row id, rows) in part order, as JSON;
# written only where every batch's row ids strictly increase


def parts_dir(output_dir: Path) -> Path:
    return output_dir / PARTS


def list_parts(output_dir: Path) -> list[Path]:
    """The parts written so far, oldest run first (a later part supersedes an earlier one for a row)."""
    directory = parts_dir(output_dir)
    if not directory.is_dir():
        return []
    return sorted(path for path in directory.iterdir() if _PART.fullmatch(path.name))


def next_run(output_dir: Path) -> int:
    """The number of the next run into `output_dir` (1 for a fresh directory)."""
    runs = [int(match.group(1)) for path in list_parts(output_dir) if (match := _PART.fullmatch(path.name))]
    return max(runs, default=0) + 1


def completed_rows(output_dir: Path) -> RowSet:
    """Rows already recorded without error, which a resumed run skips."""
    done = RowSet()
    parts = list_parts(output_dir)
    if not parts:
        return done
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    for path in parts:
        table = pq.read_table(path, columns=[cols.ROW_ID, cols.ERROR])
        for row_id in table.filter(pc.is_null(table[cols.ERROR]))[cols.ROW_ID].to_pylist():
            done.add(row_id)
    return done


def committed_batches(output_dir: Path, run: int, writer: str) -> set[int]:
    """The batch ids in the parts one writer wrote in one run, read from the parts' footers: what a writer
    made durable even where its reply never arrived (it died between writing a part and answering)."""
    import pyarrow.parquet as pq

    directory = parts_dir(output_dir)
    if not directory.is_dir():
        return set()
    prefix = f"part-{run:05d}-{writer}-"
    batch_ids: set[int] = set()
    for path in directory.iterdir():
        if path.name.startswith(prefix) and _PART.fullmatch(path.name):
            recorded = (pq.read_schema(path).metadata or {}).get(BATCH_IDS_KEY, b"")
            batch_ids.update(int(batch_id) for batch_id in recorded.split(b",") if batch_id)
    return batch_ids


class PartSink:
    """Buffers result tables and writes them as one Parquet part once `flush_rows` or `flush_bytes` is hit."""

    def __init__(self, output_dir: Path, run: int, writer: str, flush_rows: int, flush_bytes: int) -> None:
        self._directory = parts_dir(output_dir)
        self._directory.mkdir(parents=True, exist_ok=True)
        self._stem = f"part-{run:05d}-{writer}"
        self._flush_rows = flush_rows
        self._flush_bytes = flush_bytes
        self._tables: list[pa.Table] = []
        self._batch_ids: list[int] = []
        self._tally = Tally()
        self._spans: list[tuple[int, int, int]] | None = []  # None once a batch's rows are out of order
        self._rows = 0
        self._bytes = 0
        self._sequence = 0

    @property
    def buffered_rows(self) -> int:
        return self._rows

    def add(self, batch_id: int, table: pa.Table, tally: Tally | None = None,
            row_ids: Sequence[int] | None = None) -> list[int]:
        """Buffers one batch's results (and its tally, read from the table if not given; its row ids likewise,
        the table's `row_id` column in Python values); returns the batch ids made durable by a flush this
        caused, if any."""
        self._tables.append(table)
        self._batch_ids.append(batch_id)
        self._tally.add(tally_table(table) if tally is None else tally)
        span = _span(table[cols.ROW_ID].to_pylist() if row_ids is None else row_ids)
        if span is None:
            self._spans = None
        elif self._spans is not None:
            self._spans.append(span)
        self._rows += table.num_rows
        self._bytes += table.nbytes
        if self._rows >= self._flush_rows or self._bytes >= self._flush_bytes:
            return self.flush()
        return []

    def flush(self) -> list[int]:
        """Writes everything buffered as one part; returns the batch ids it holds."""
        import pyarrow.parquet as pq

        if not self._tables:
            return []
        path = self._directory / f"{self._stem}-{self._sequence:06d}.parquet"
        temporary = path.with_name(f".{path.name}.tmp")
        table = cols.concat(self._tables)
        metadata = {**(table.schema.metadata or {}), BATCH_IDS_KEY: ",".join(map(str, self._batch_ids)).encode(),
                    TALLY_KEY: self._tally.to_json()}
        if self._spans is not None:
            metadata[SPANS_KEY] = json.dumps(self._spans).encode()
        # No dictionaries, statistics only for the row ids reconciliation reads, and LZ4 (faster than Snappy
        # both ways, and as small): the fastest write of a file only the runtime reads.
        with small_pages():
            pq.write_table(table.replace_schema_metadata(metadata), temporary, use_dictionary=False,
                           write_statistics=[cols.ROW_ID], compression="lz4")
        os.replace(temporary, path)
        committed = self._batch_ids
        self._sequence += 1
        self._tables, self._batch_ids, self._rows, self._bytes = [], [], 0, 0
        self._tally, self._spans = Tally(), []
        return committed


def _span(ids: Sequence[int]) -> tuple[int, int, int] | None:
    """The first and last row ids and their number, if the row ids strictly increase; else None."""
    if isinstance(ids, range) and ids.step == 1:  # a batch's usual row ids: no need to look at each
        return (ids.start, ids.stop - 1, len(ids)) if ids else (0, -1, 0)
    if not all(map(operator.lt, ids, itertools.islice(ids, 1, None))):
        return None
    return (ids[0], ids[-1], len(ids)) if ids else (0, -1, 0)
