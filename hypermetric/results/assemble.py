"""Cases to one Arrow table without a Python object per row where an output is large.

`collect_rows` makes a dict per record, which is fine for many small outputs and ruinous for one output of a
million rows. Here each case is read with `read_output`: small outputs still come back as records and go
through `collect_rows`' row logic in runs of consecutive cases, while a large output comes back as an Arrow
table and gets its case columns (axes, status, meta, error) added as constant arrays. The pieces are then
brought to common column types, by the rules of `arrow.column_array` (int and float make float; anything
mixed makes text), and concatenated. With no large output this is exactly `rows_to_table(collect_rows(...))`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from hypermetric.results.arrow import column_array, rows_to_table
from hypermetric.results.collect import (
    CaseResult,
    Layout,
    Reader,
    Staged,
    base_row,
    layout_of,
    rows_of,
    stage_cases,
)
from hypermetric.results.readers import read_output

if TYPE_CHECKING:
    import pyarrow as pa


def collect_table(cases: Iterable[CaseResult], axes: Sequence[str], *, per_query: bool = False,
                  with_meta: bool = False, reader: Reader = read_output) -> pa.Table:
    """The results table of `cases`: a string column per axis, `status`, then every field (see `collect`)."""
    staged = stage_cases(cases, reader, per_query)
    layout = layout_of(staged, with_meta)
    if all(item.table is None for item in staged):
        return rows_to_table(rows_of(staged, layout), axes)
    pieces: list[pa.Table] = []
    run: list[Staged] = []
    for item in staged:
        if item.table is None:
            run.append(item)
            continue
        if run:
            pieces.append(rows_to_table(rows_of(run, layout), axes))
            run = []
        pieces.append(_case_table(item, layout, axes))
    if run:
        pieces.append(rows_to_table(rows_of(run, layout), axes))
    return _concatenated(pieces, layout.columns)


def _case_table(item: Staged, layout: Layout, axes: Sequence[str]) -> pa.Table:
    """A large output's table with its case columns around it, in the layout's column order."""
    import pyarrow as pa

    table = item.table
    n = table.num_rows
    base = base_row(item, layout)
    fields = {f"output.{name}" if name in layout.clashes else name: name for name in table.column_names}
    arrays = []
    for name in layout.columns:
        if name in fields:
            arrays.append(table.column(fields[name]))
        elif base[name] is None:
            arrays.append(pa.nulls(n, pa.string() if name in axes else pa.null()))
        else:
            value = pa.array([base[name]], pa.string()) if name in axes else column_array([base[name]])
            arrays.append(pa.repeat(value[0], n))
    return pa.Table.from_arrays(arrays, names=layout.columns)


def _concatenated(pieces: list[pa.Table], names: list[str]) -> pa.Table:
    import pyarrow as pa

    types = [_common_type([piece.schema.field(i).type for piece in pieces]) for i in range(len(names))]
    aligned = [pa.Table.from_arrays([_cast(piece.column(i), type_) for i, type_ in enumerate(types)], names=names)
               for piece in pieces]
    return pa.concat_tables(aligned)


def _common_type(types: list[Any]) -> Any:
    import pyarrow as pa

    kinds = {t for t in types if t != pa.null()}
    if not kinds:
        return pa.null()
    if len(kinds) == 1 and kinds <= {pa.bool_(), pa.int64(), pa.float64(), pa.string()}:
        return kinds.pop()
    if kinds <= {pa.int64(), pa.float64()}:
        return pa.float64()
    return pa.string()


def _cast(column: Any, type_: Any) -> Any:
    import pyarrow as pa

    if column.type == type_:
        return column
    if column.type == pa.null():
        return pa.nulls(len(column), type_)
    return column.cast(type_)
