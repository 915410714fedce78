"""`Dataset` (rows read lazily from records, JSON lines, CSV, Parquet or Arrow) and `FieldRef` (one field)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hypermetric.runtime.data import sources

if TYPE_CHECKING:
    import pyarrow as pa

DATASET_ENV = "HYPERMETRIC_DATASET"


@dataclass(frozen=True, slots=True)
class FieldRef:
    """A reference to one field of the current row, e.g. `Dataset.query`; resolved per row at run time."""

    name: str
    dataset: Dataset | None = field(default=None, compare=False, repr=False)

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        # Only the name travels to workers: the row itself supplies the value, so the dataset stays behind.
        return (FieldRef, (self.name,))


class _DatasetMeta(type):
    """Makes `Dataset.<field>` on the class itself a `FieldRef` to that field of whichever dataset is run."""

    def __getattr__(cls, name: str) -> FieldRef:
        if name.startswith("_"):
            raise AttributeError(name)
        return FieldRef(name)


class Dataset(metaclass=_DatasetMeta):
    """Rows to evaluate, read in batches and never all at once (except for records already in memory).

    `Dataset.<field>` and `ds.<field>` are field references: `main(query=Dataset.query)` calls `main` once
    per row.
    A field whose name clashes with a method is reached with `ds.field("name")` or `Dataset.field("name")`.
    """

    __slots__ = ("_source", "description")

    def __init__(self, source: sources.Source, description: str) -> None:
        self._source = source
        self.description = description

    def __getattr__(self, name: str) -> FieldRef:
        if name.startswith("_"):
            raise AttributeError(name)
        return FieldRef(name, self)

    def __repr__(self) -> str:
        return f"Dataset({self.description})"

    def __bool__(self) -> bool:
        return True

    def __len__(self) -> int:
        size = self._source.size()
        if size is None:
            raise TypeError(f"the length of {self!r} is not known before it is read")
        return size

    @staticmethod
    def field(name: str) -> FieldRef:
        """A reference to the field `name` (for names that clash with `Dataset` methods)."""
        return FieldRef(name)

    def size(self) -> int | None:
        """The number of rows when it is known without reading the data, else None."""
        return self._source.size()

    def iter_chunks(self, batch_size: int) -> Iterator[sources.Chunk]:
        """The rows in order, as (row count, column dictionary) pairs of at most `batch_size` rows each."""
        return self._source.iter_chunks(batch_size)

    def iter_rows(self) -> Iterator[dict[str, Any]]:
        """The rows in order, one dictionary each."""
        for count, columns in self.iter_chunks(1024):
            for index in range(count):
                yield {name: values[index] for name, values in columns.items()}

    @classmethod
    def from_records(cls, records: Iterable[Mapping[str, Any]]) -> Dataset:
        """Rows from dictionaries; a list is kept as given, any other iterable is read once into a list."""
        rows = records if isinstance(records, list) else list(records)
        return cls(sources.RecordsSource(rows), f"{len(rows)} records")

    @classmethod
    def from_generator(cls, factory: Callable[[], Iterable[Mapping[str, Any]]]) -> Dataset:
        """Rows produced lazily by `factory()`, which is called again each time the dataset is read."""
        return cls(sources.GeneratorSource(factory), f"generator {getattr(factory, '__name__', factory)!s}")

    @classmethod
    def from_jsonl(cls, path: str | os.PathLike[str]) -> Dataset:
        """Rows from a JSON-lines file (one object per line; blank lines are skipped)."""
        return cls(sources.JsonlSource(Path(path)), f"jsonl {path}")

    @classmethod
    def from_csv(cls, path: str | os.PathLike[str]) -> Dataset:
        """Rows from a CSV file with a header line, streamed with pyarrow's CSV reader."""
        return cls(sources.CsvSource(Path(path)), f"csv {path}")

    @classmethod
    def from_parquet(cls, path: str | os.PathLike[str]) -> Dataset:
        """Rows from a Parquet file, streamed batch by batch."""
        return cls(sources.ParquetSource(Path(path)), f"parquet {path}")

    @classmethod
    def from_arrow(cls, table: pa.Table | pa.RecordBatch) -> Dataset:
        """Rows from an in-memory Arrow table or record batch."""
        return cls(sources.ArrowSource(table), f"arrow table of {table.num_rows} rows")

    @classmethod
    def from_path(cls, path: str | os.PathLike[str]) -> Dataset:
        """Rows from a file, read according to its suffix: .jsonl/.ndjson, .csv, .parquet/.pq."""
        suffix = Path(path).suffix.lower()
        readers = {".jsonl": cls.from_jsonl, ".ndjson": cls.from_jsonl, ".csv": cls.from_csv,
                   ".parquet": cls.from_parquet, ".pq": cls.from_parquet}
        if suffix not in readers:
            raise ValueError(f"cannot tell how to read {path}: "
                             "expected a .jsonl, .ndjson, .csv or .parquet file")
        return readers[suffix](path)

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> Dataset | None:
        """The dataset named by `HYPERMETRIC_DATASET` (a file path), or None when it is not set."""
        value = (os.environ if environ is None else environ).get(DATASET_ENV, "")
        return cls.from_path(value) if value else None
