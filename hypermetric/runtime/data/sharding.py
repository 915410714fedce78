"""Deterministic sharding: row ids are dataset positions, batches are runs of consecutive rows still to do."""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from hypermetric.runtime.data.dataset import Dataset
from hypermetric.runtime.data.sources import Columns

MAX_AUTO_BATCH = 1024
UNKNOWN_SIZE_BATCH = 256
BATCHES_PER_WORKER = 8


@dataclass(frozen=True, slots=True)
class RowBatch:
    """Rows sent to a worker together: their ids (dataset positions) and their values, column by column."""

    batch_id: int
    row_ids: Sequence[int]
    columns: Columns

    def __len__(self) -> int:
        return len(self.row_ids)


class RowSet:
    """A set of row ids as a bitmap: one bit per row, so a million recorded rows take 125 kB."""

    __slots__ = ("_bits", "_count")

    def __init__(self, row_ids: Iterable[int] = ()) -> None:
        self._bits = bytearray()
        self._count = 0
        for row_id in row_ids:
            self.add(row_id)

    def add(self, row_id: int) -> None:
        byte, bit = divmod(row_id, 8)
        if byte >= len(self._bits):
            self._bits.extend(bytes(max(byte + 1 - len(self._bits), len(self._bits))))
        if not self._bits[byte] >> bit & 1:
            self._bits[byte] |= 1 << bit
            self._count += 1

    def __contains__(self, row_id: object) -> bool:
        if not isinstance(row_id, int) or row_id < 0:
            return False
        byte, bit = divmod(row_id, 8)
        return byte < len(self._bits) and bool(self._bits[byte] >> bit & 1)

    def __len__(self) -> int:
        return self._count


def split_batch(batch: RowBatch, first_id: int, second_id: int) -> tuple[RowBatch, RowBatch]:
    """`batch` cut into two halves (of a batch of two rows or more), numbered `first_id` and `second_id`."""
    middle = len(batch) // 2
    halves = [(first_id, slice(0, middle)), (second_id, slice(middle, len(batch)))]
    first, second = (RowBatch(batch_id, batch.row_ids[part],
                              {name: values[part] for name, values in batch.columns.items()})
                     for batch_id, part in halves)
    return first, second


def auto_batch_size(dataset_size: int | None, workers: int) -> int:
    """Enough batches to keep every worker busy, but no batch larger than MAX_AUTO_BATCH rows."""
    if dataset_size is None:
        return UNKNOWN_SIZE_BATCH
    return max(1, min(MAX_AUTO_BATCH, math.ceil(dataset_size / (workers * BATCHES_PER_WORKER))))


def _select(columns: Columns, indices: list[int]) -> Columns:
    return {name: [values[i] for i in indices] for name, values in columns.items()}


def iter_batches(dataset: Dataset, batch_size: int, done: RowSet, max_runs: float) -> Iterator[RowBatch]:
    """The rows not in `done`, in order, in batches of at most `batch_size`, and `max_runs` rows at most."""
    start = 0
    taken = 0
    batch_id = 0
    for count, columns in dataset.iter_chunks(batch_size):
        if taken >= max_runs:
            return
        keep = [i for i in range(count) if start + i not in done] if len(done) else list(range(count))
        keep = keep[:int(min(len(keep), max_runs - taken))]
        if keep:
            row_ids: Sequence[int] = (range(start + keep[0], start + keep[-1] + 1)
                                      if len(keep) == keep[-1] - keep[0] + 1 else [start + i for i in keep])
            selected = columns if len(keep) == count else _select(columns, keep)
            yield RowBatch(batch_id, row_ids, selected)
            batch_id += 1
            taken += len(keep)
        start += count
