"""Per-example rows of a results table: which column names the example, which columns are metrics.

`results --per-query` gives a row per example (query) and case: trec_eval's `-q` lines carry an `id` and end
with a summary whose id is `all`; JSON lines or CSV outputs carry an id column of their own; the Python
runtime's tables carry `row_id`. Summary rows, and the one row a failed or missing case gets (its id is
null), are not examples.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from hypermetric.errors import UsageError
from hypermetric.suggest import help_did_you_mean

if TYPE_CHECKING:
    import pyarrow as pa

ID_COLUMNS = ("id", "qid", "query_id", "example_id", "row_id")
SUMMARY_ID = "all"
NOT_METRICS = frozenset({"status", "error", "duration_s", "attempt", "host"})


def id_column(table: pa.Table, name: str | None = None) -> str | None:
    """The column naming each example: `name` when given (an error if absent), else the first of
    `ID_COLUMNS` that the table has, else None (one row per case)."""
    if name is not None:
        if name not in table.column_names:
            raise UsageError(f"the table has no column `{name}` to name its examples",
                             help=help_did_you_mean(name, table.column_names))
        return name
    return next((c for c in ID_COLUMNS if c in table.column_names), None)


def metric_columns(table: pa.Table, axes: Sequence[str], id_col: str | None = None) -> list[str]:
    """The numeric (or boolean) columns that are neither axes, the id, nor the job's status and meta."""
    import pyarrow as pa

    skip = {*axes, *NOT_METRICS, *((id_col,) if id_col else ())}
    out = []
    for field in table.schema:
        kind = field.type
        if field.name not in skip and (pa.types.is_integer(kind) or pa.types.is_floating(kind)
                                       or pa.types.is_boolean(kind)):
            out.append(field.name)
    return out


def split_examples(table: pa.Table, id_col: str) -> tuple[pa.Table, pa.Table]:
    """(example rows, other rows): rows whose id is null or `all` are summaries or failed cases."""
    import pyarrow.compute as pc

    ids = pc.cast(table.column(id_col), "string")
    summary = pc.fill_null(pc.equal(ids, SUMMARY_ID), True)
    return table.filter(pc.invert(summary)), table.filter(summary)


def values(table: pa.Table, column: str) -> np.ndarray:
    """A column as float64, nulls (and non-finite values) as NaN."""
    import pyarrow.compute as pc

    array = pc.cast(table.column(column), "float64").to_numpy(zero_copy_only=False)
    out = np.array(array, dtype=np.float64)
    out[~np.isfinite(out)] = np.nan
    return out


def check_metrics(table: pa.Table, axes: Sequence[str], metrics: Sequence[str] | None,
                  id_col: str | None) -> list[str]:
    """`metrics` checked against the table's metric columns, or all of them when None."""
    available = metric_columns(table, axes, id_col)
    if metrics is None:
        if not available:
            raise UsageError("the table has no numeric column to compute statistics of",
                             help="the outputs must hold numbers; see them with `hypermetric results`")
        return available
    for name in metrics:
        if name not in available:
            raise UsageError(f"`{name}` is not a numeric column of the table",
                             help=help_did_you_mean(name, available))
    return list(metrics)
