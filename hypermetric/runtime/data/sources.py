"""Row sources behind `Dataset`: each yields the rows in order as column dictionaries of bounded size."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import pyarrow as pa

Columns = dict[str, list[Any]]
Chunk = tuple[int, Columns]  # (number of rows, their columns)


class Source(Protocol):
    """Where a dataset's rows come from."""

    def size(self) -> int | None: ...

    def iter_chunks(self, batch_size: int) -> Iterator[Chunk]: ...


def records_to_columns(rows: Sequence[Mapping[str, Any]]) -> Columns:
    """Column lists from row dictionaries; a field missing from a row is None there."""
    if not rows:
        return {}
    first = list(rows[0])
    if sum(map(len, rows)) == len(first) * len(rows):  # the usual case: every row has the same fields
        try:
            return {name: [row[name] for row in rows] for name in first}
        except KeyError:  # as many fields, but not the same ones
            pass
    names: dict[str, None] = {}
    for row in rows:
        names.update(dict.fromkeys(row))
    return {name: [row.get(name) for row in rows] for name in names}


def _chunks(rows: Iterable[Mapping[str, Any]], batch_size: int) -> Iterator[Chunk]:
    iterator = iter(rows)
    while chunk := list(itertools.islice(iterator, batch_size)):
        yield len(chunk), records_to_columns(chunk)


@dataclass(frozen=True, slots=True)
class RecordsSource:
    """Rows already in memory as dictionaries."""

    rows: Sequence[Mapping[str, Any]]

    def size(self) -> int | None:
        return len(self.rows)

    def iter_chunks(self, batch_size: int) -> Iterator[Chunk]:
        for start in range(0, len(self.rows), batch_size):
            chunk = self.rows[start:start + batch_size]
            yield len(chunk), records_to_columns(chunk)


@dataclass(frozen=True, slots=True)
class GeneratorSource:
    """Rows produced on demand by a factory, so that no more than a batch of them is ever held."""

    factory: Callable[[], Iterable[Mapping[str, Any]]]

    def size(self) -> int | None:
        return None

    def iter_chunks(self, batch_size: int) -> Iterator[Chunk]:
        return _chunks(self.factory(), batch_size)


@dataclass(frozen=True, slots=True)
class JsonlSource:
    """A JSON-lines file, read line by line."""

    path: Path

    def size(self) -> int | None:
        return None

    def iter_chunks(self, batch_size: int) -> Iterator[Chunk]:
        def rows() -> Iterator[Mapping[str, Any]]:
            with self.path.open(encoding="utf-8") as handle:
                for number, line in enumerate(handle, start=1):
                    if not line.strip():
                        continue
                    row = json.loads(line)
                    if not isinstance(row, dict):
                        found = type(row).__name__
                        raise ValueError(f"{self.path}:{number}: expected a JSON object, found {found}")
                    yield row

        return _chunks(rows(), batch_size)


def _rebatch(batches: Iterable[pa.RecordBatch], batch_size: int) -> Iterator[Chunk]:
    """Slices Arrow record batches into column dictionaries of at most `batch_size` rows."""
    for batch in batches:
        for start in range(0, batch.num_rows, batch_size):
            piece = batch.slice(start, batch_size)
            yield piece.num_rows, piece.to_pydict()


@dataclass(frozen=True, slots=True)
class ArrowSource:
    """An Arrow table or record batch in memory."""

    table: pa.Table | pa.RecordBatch

    def size(self) -> int | None:
        return self.table.num_rows

    def iter_chunks(self, batch_size: int) -> Iterator[Chunk]:
        return _rebatch(self.table.to_batches(max_chunksize=batch_size), batch_size)


@dataclass(frozen=True, slots=True)
class ParquetSource:
    """A Parquet file, streamed batch by batch."""

    path: Path

    def size(self) -> int | None:
        import pyarrow.parquet as pq

        return pq.read_metadata(self.path).num_rows

    def iter_chunks(self, batch_size: int) -> Iterator[Chunk]:
        import pyarrow.parquet as pq

        return _rebatch(pq.ParquetFile(self.path).iter_batches(batch_size=batch_size), batch_size)


@dataclass(frozen=True, slots=True)
class CsvSource:
    """A CSV file with a header line, streamed block by block (types are inferred from the first block)."""

    path: Path

    def size(self) -> int | None:
        return None

    def iter_chunks(self, batch_size: int) -> Iterator[Chunk]:
        import pyarrow.csv as csv

        return _rebatch(csv.open_csv(self.path), batch_size)
