"""Comparison with an earlier table: value, baseline value and delta per case and metric.

Both tables are brought to one value per case (the mean of its examples when they have a row per example)
and joined on the axis columns. The metrics compared are those both tables have. Cases found on one side
only are returned apart, so that they can be listed rather than lost.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hypermetric.errors import UsageError
from hypermetric.results.stats.perquery import check_metrics, id_column, metric_columns
from hypermetric.results.stats.summary import case_values, long_rows, summary_table
from hypermetric.suggest import join_names

if TYPE_CHECKING:
    import pyarrow as pa


@dataclass
class Comparison:
    """`table`: axes, `metric`, `value`, `baseline`, `delta`; the cases found on one side only, as axis
    columns."""

    table: pa.Table
    only_current: pa.Table
    only_baseline: pa.Table


def compare(current: pa.Table, baseline: pa.Table, axes: Sequence[str],
            metrics: Sequence[str] | None = None, *, name: str = "the baseline table") -> Comparison:
    """Join `current` with `baseline` on `axes` (see the module); `name` names the baseline in errors."""
    baseline = _with_string_axes(baseline, axes, name)
    id_now, id_then = id_column(current), id_column(baseline)
    ours = check_metrics(current, axes, metrics, id_now)
    theirs = set(metric_columns(baseline, axes, id_then))
    shared = [m for m in ours if m in theirs]
    if not shared:
        raise UsageError(f"{name} has none of the table's metrics ({join_names(ours, 'and')})",
                         help="compare with a table of the same task, written earlier with --to")
    keys_now, now = case_values(current, axes, shared, id_now)
    keys_then, then = case_values(baseline, axes, shared, id_then)
    where = {key: i for i, key in enumerate(keys_then)}
    rows: list[dict[str, Any]] = []
    for i, key in enumerate(keys_now):
        j = where.get(key)
        if j is not None:
            stats = {"value": now[i], "baseline": then[j], "delta": now[i] - then[j]}
            rows.extend(long_rows(axes, key, shared, stats))
    table = summary_table(rows, axes, ["value", "baseline", "delta"])
    found = set(keys_now)
    only_now = [k for k in keys_now if k not in where]
    only_then = [k for k in keys_then if k not in found]
    return Comparison(table, _key_table(only_now, axes), _key_table(only_then, axes))


def _with_string_axes(table: pa.Table, axes: Sequence[str], name: str) -> pa.Table:
    """`table` with its axis columns as text (a CSV or JSON file may have read `0.9` as a number)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    missing = [a for a in axes if a not in table.column_names]
    if missing:
        raise UsageError(f"{name} has other columns: no column for axis {join_names(missing, 'and')}",
                         help=f"its columns are {join_names(table.column_names[:12], 'and')}; compare with a "
                              "table of the same task, written earlier with --to")
    for axis in axes:
        column = table.column(axis)
        if column.type != pa.string():
            text = pc.cast(column, pa.string()) if not pa.types.is_null(column.type) else column.cast(pa.string())
            table = table.set_column(table.column_names.index(axis), axis, text)
    return table


def _key_table(keys: list[tuple[Any, ...]], axes: Sequence[str]) -> pa.Table:
    import pyarrow as pa

    columns = [pa.array([key[i] for key in keys], pa.string()) for i in range(len(axes))]
    return pa.Table.from_arrays(columns, names=list(axes)) if axes else pa.table({})


def read_baseline(path: str) -> pa.Table:
    """A table written earlier with `results --to` (Parquet, CSV or JSON), or a usage error."""
    from hypermetric.results.arrow import rows_to_table
    from hypermetric.results.failures import ResultReadError
    from hypermetric.results.readers import MissingResultError, read_output

    try:
        out = read_output(path)
    except (MissingResultError, FileNotFoundError):
        raise UsageError(f"no such file: `{path}`", help="write a baseline first with `results … --to FILE`") \
            from None
    except (ResultReadError, OSError) as e:
        raise UsageError(f"cannot read `{path}`: {getattr(e, 'reason', None) or e}") from None
    return rows_to_table(out, []) if isinstance(out, list) else out

