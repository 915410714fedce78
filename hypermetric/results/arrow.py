"""Rows to `pyarrow.Table`s: column typing, pivoting one axis into columns, writing, and text for display.

pyarrow is imported inside the functions, so importing this module stays cheap. Column types: axis columns
are strings; a column of ints is int64, of ints and floats float64, of bools bool; anything else is a string
column (lists and objects as JSON text); a column with no value at all has Arrow's null type.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hypermetric.errors import AxisError, StoreError, UsageError
from hypermetric.suggest import help_did_you_mean, join_names

if TYPE_CHECKING:
    import pyarrow as pa

NON_METRIC_COLUMNS = frozenset({"status", "error"})
_WRITE_FORMATS = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv", ".tsv": "tsv", ".json": "json",
                  ".jsonl": "jsonl", ".ndjson": "jsonl"}


def rows_to_table(rows: Sequence[dict[str, Any]], axes: Sequence[str]) -> pa.Table:
    """A table with a string column per axis, then every other key of `rows` in order of first appearance."""
    import pyarrow as pa

    columns: dict[str, None] = dict.fromkeys(axes)
    last_keys: Any = None
    for row in rows:
        keys = row.keys()
        if keys != last_keys:
            columns.update(dict.fromkeys(keys))
            last_keys = keys
    arrays = []
    for name in columns:
        values = [row.get(name) for row in rows]
        arrays.append(_string_array(values) if name in axes else column_array(values))
    return pa.Table.from_arrays(arrays, names=list(columns))


def column_array(values: list[Any]) -> pa.Array:
    """An Arrow array for one column of Python values, typed as the module docstring says."""
    import pyarrow as pa

    kinds = set(map(type, values))
    kinds.discard(type(None))
    if not kinds:
        return pa.nulls(len(values))
    if kinds == {bool}:
        return pa.array(values, pa.bool_())
    if kinds <= {int, float}:
        try:
            return pa.array(values, pa.int64() if kinds == {int} else pa.float64())
        except (OverflowError, pa.ArrowInvalid):
            pass
    return _string_array(values)


def _string_array(values: list[Any]) -> pa.Array:
    import pyarrow as pa

    return pa.array([v if v is None or type(v) is str else to_text(v) for v in values], pa.string())


def to_text(value: Any) -> str:
    """A cell's value as text: lists and objects as JSON, booleans as `true`/`false`, others with `str`."""
    if isinstance(value, (dict, list, tuple)):
        try:
            return json.dumps(value, default=str, ensure_ascii=False)
        except RecursionError:  # nested past what the encoder can walk: say so rather than fail the table
            return "<nested too deeply to show>"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def pivot(table: pa.Table, axis: str, axes: Sequence[str]) -> list[tuple[str, pa.Table]]:
    """One table per metric column: the other axes (and `id`) as row keys, one column per key of `axis`.

    Keys keep their order of first appearance; when a cell is given twice the first value wins. A table with
    no metric column is pivoted on its `status`.
    """
    import pyarrow as pa

    names = table.column_names
    if axis not in axes or axis not in names:
        raise AxisError(f"cannot pivot on `{axis}`: the table's axes are {join_names(axes, 'and')}",
                        help=help_did_you_mean(axis, axes))
    row_keys = [a for a in axes if a != axis and a in names]
    if "id" in names and "id" not in axes:
        row_keys.append("id")
    metrics = [c for c in names if c not in axes and c not in row_keys and c not in NON_METRIC_COLUMNS]
    if not metrics:
        metrics = ["status"]
    key_columns = [table.column(c).to_pylist() for c in row_keys]
    key_values = list(zip(*key_columns, strict=True)) if key_columns else [()] * table.num_rows
    row_index: dict[tuple[Any, ...], int] = {}
    row_of = [row_index.setdefault(key, len(row_index)) for key in key_values]
    column_index: dict[Any, int] = {}
    column_of = [column_index.setdefault(k, len(column_index)) for k in table.column(axis).to_pylist()]
    out: list[tuple[str, pa.Table]] = []
    for metric in metrics:
        grid: list[list[Any]] = [[None] * len(row_index) for _ in column_index]
        seen: set[tuple[int, int]] = set()
        for r, c, value in zip(row_of, column_of, table.column(metric).to_pylist(), strict=True):
            if (r, c) not in seen:
                seen.add((r, c))
                grid[c][r] = value
        keys = list(row_index)
        arrays = [pa.array([key[i] for key in keys], table.schema.field(name).type)
                  for i, name in enumerate(row_keys)]
        arrays += [pa.array(col, table.schema.field(metric).type) for col in grid]
        labels = [*row_keys, *("null" if k is None else str(k) for k in column_index)]
        out.append((metric, pa.Table.from_arrays(arrays, names=labels)))
    return out


def write_table(table: pa.Table, path: str | os.PathLike[str], format: str | None = None) -> Path:
    """Write `table` as Parquet, CSV, TSV, JSON (an array of objects) or JSON lines, atomically."""
    target = Path(path)
    fmt = format or _WRITE_FORMATS.get(target.suffix.lower())
    if fmt is None or fmt not in _WRITE_FORMATS.values():
        raise UsageError(f"cannot write a table to `{target}`: unknown format",
                         help="use a `.parquet`, `.csv` or `.json` file name")
    tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        _write(table, tmp, fmt)
        os.replace(tmp, target)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise StoreError(f"cannot write `{target}`: {e.strerror or e}") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return target


def _write(table: pa.Table, path: Path, fmt: str) -> None:
    if fmt == "parquet":
        import pyarrow.parquet as pq

        pq.write_table(table, path)
    elif fmt in ("csv", "tsv"):
        import pyarrow.csv as pacsv

        options = pacsv.WriteOptions(delimiter="\t" if fmt == "tsv" else ",")
        pacsv.write_csv(table, path, write_options=options)
    else:
        rows = [{k: _json_value(v) for k, v in row.items()} for row in table.to_pylist()]
        lines = [json.dumps(row, ensure_ascii=False, default=str, allow_nan=False) for row in rows]
        text = "\n".join(lines) if fmt == "jsonl" else "[\n" + ",\n".join(lines) + "\n]" if lines else "[]"
        path.write_text(text + "\n", encoding="utf-8")


def _json_value(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def format_value(value: Any) -> str:
    """Display text for one cell: floats with 4 decimals (4 significant digits when tiny or huge)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        magnitude = abs(value)
        if value == 0 or 1e-3 <= magnitude < 1e15:
            return f"{value:.4f}"
        return f"{value:.4g}"
    return str(value)


def table_to_text_rows(table: pa.Table) -> tuple[list[str], list[list[str]]]:
    """The column names and every row as display strings, for a text or rich renderer."""
    columns = [[format_value(v) for v in table.column(i).to_pylist()] for i in range(table.num_columns)]
    return list(table.column_names), [list(row) for row in zip(*columns, strict=True)]
