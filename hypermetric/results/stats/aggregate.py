"""Aggregates over axes: `results TARGET --agg Seed` groups the cases by the other axes and summarises each
metric over the aggregated axes' keys.

A case's value is its one number, or the mean of its examples when the table has a row per example. Cases
with no value (failed, missing, pending) are never averaged away in silence: every row says how many cases
the group has (`cases`) and how many of them gave no value (`missing`), beside `n`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from hypermetric.errors import AxisError, UsageError
from hypermetric.results.stats.bootstrap import Resampling
from hypermetric.results.stats.perquery import check_metrics, id_column
from hypermetric.results.stats.summary import case_values, column_stats, long_rows, summary_table
from hypermetric.suggest import help_did_you_mean, join_names

if TYPE_CHECKING:
    import pyarrow as pa

STATS = ("mean", "median", "std", "min", "max", "n", "ci")
DEFAULT_STATS = ("mean", "std", "n")


def parse_stats(text: str) -> list[str]:
    """`mean,std,n` to a checked list of statistic names."""
    names = [s.strip() for s in text.split(",") if s.strip()]
    for name in names:
        if name not in STATS:
            raise UsageError(f"unknown statistic `{name}`", help=help_did_you_mean(name, STATS)
                             or f"choose from {join_names(STATS, 'and')}")
    if not names:
        raise UsageError("--stats names no statistic", help=f"choose from {join_names(STATS, 'and')}")
    return names


def check_axes(axes: Sequence[str], over: Sequence[str], option: str = "--agg") -> None:
    """Every axis of `over` must be an axis of the table."""
    for axis in over:
        if axis not in axes:
            raise AxisError(f"cannot use {option} `{axis}`: the target's axes are {join_names(axes, 'and')}",
                            help=help_did_you_mean(axis, axes) or "aggregate over an axis the task depends on")


def aggregate(table: pa.Table, axes: Sequence[str], over: Sequence[str],
              stats: Sequence[str] = DEFAULT_STATS, metrics: Sequence[str] | None = None, *,
              id_col: str | None = None, resampling: Resampling = Resampling()) -> pa.Table:
    """One row per group of the axes not in `over` and per metric.

    Columns: the remaining axes, `metric`, `cases`, `missing`, then the statistics asked (`ci` gives
    `ci_low` and `ci_high`, a bootstrap interval of the mean over the group's cases).
    """
    check_axes(axes, over)
    id_col = id_column(table, id_col)
    chosen = check_metrics(table, axes, metrics, id_col)
    keys, matrix = case_values(table, axes, chosen, id_col)
    kept = [i for i, axis in enumerate(axes) if axis not in over]
    groups: dict[tuple[object, ...], list[int]] = {}
    for row, key in enumerate(keys):
        groups.setdefault(tuple(key[i] for i in kept), []).append(row)
    rows = []
    for position, (group, members) in enumerate(groups.items()):
        part = matrix[members]
        missing = np.isnan(part).sum(axis=0)
        values = column_stats(part, stats, resampling, resampling.rng(position))
        rows.extend(long_rows([axes[i] for i in kept], group, chosen,
                              {"cases": np.full(len(chosen), len(members)), "missing": missing, **values}))
    return summary_table(rows, [axes[i] for i in kept], list(stats))
