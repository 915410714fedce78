"""Rows of a table grouped by some of its columns: an integer group per row, keys in order of first appearance.

The statistics need the rows of each case (or each group of cases) as numpy index arrays. Arrow's own
`group_by` aggregates but does not hand back the row numbers, so the key columns are dictionary-encoded and
combined into one integer per row here, which numpy then sorts once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import pyarrow as pa


@dataclass(frozen=True)
class Groups:
    """`codes[i]` is the group of row i; `keys[g]` the key columns' values of group g; `rows[g]` its rows."""

    codes: np.ndarray
    keys: list[tuple[Any, ...]]
    rows: list[np.ndarray]


def group_rows(table: pa.Table, columns: Sequence[str]) -> Groups:
    """The rows of `table` grouped by the values of `columns` (nulls form their own key), in first-seen order."""
    n = table.num_rows
    if not columns or n == 0:
        keys: list[tuple[Any, ...]] = [()] if n else []
        return Groups(np.zeros(n, np.int64), keys, [np.arange(n)] if n else [])
    combined = np.zeros(n, np.int64)
    bound = 1
    for name in columns:
        codes, size = column_codes(table.column(name))
        if bound * (size + 1) >= 2**62:  # renumber densely before the product could overflow
            _, dense = np.unique(combined, return_inverse=True)
            combined, bound = dense.reshape(-1).astype(np.int64), int(dense.max()) + 1
        combined = combined * (size + 1) + codes
        bound *= size + 1
    _, first, inverse = np.unique(combined, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    codes = rank[inverse.reshape(-1)]
    firsts = table.select(list(columns)).take(arrow_indices(first[order])).to_pylist()
    keys = [tuple(row[c] for c in columns) for row in firsts]
    sorted_rows = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[sorted_rows], np.arange(len(keys) + 1))
    rows = [sorted_rows[bounds[g]:bounds[g + 1]] for g in range(len(keys))]
    return Groups(codes, keys, rows)


def column_codes(column: Any) -> tuple[np.ndarray, int]:
    """An integer per value of `column` (nulls get the largest code) and the number of distinct values."""
    import pyarrow as pa
    import pyarrow.compute as pc

    array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    if pa.types.is_dictionary(array.type):
        array = array.dictionary_decode()
    encoded = pc.dictionary_encode(array)
    size = len(encoded.dictionary)
    indices = pc.fill_null(encoded.indices, size).to_numpy(zero_copy_only=False).astype(np.int64)
    return indices, size


def arrow_indices(rows: np.ndarray) -> Any:
    """Row numbers as an Arrow int64 array over numpy's memory, for `take`. (Handing `take` the numpy array
    itself makes pyarrow import `numpy.ma`, 10-30 ms, to ask whether it is a masked array.)"""
    import pyarrow as pa

    values = np.ascontiguousarray(rows, dtype=np.int64)
    return pa.Array.from_buffers(pa.int64(), len(values), [None, pa.py_buffer(values)])
