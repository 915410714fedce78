"""Shared steps of the statistics: one value per case and metric, descriptive statistics of a matrix's
columns, and the long-form table (a row per group and metric) that every statistic returns."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from hypermetric.errors import UsageError
from hypermetric.results.stats.bootstrap import Resampling, bootstrap_mean_ci, bootstrap_mean_cis
from hypermetric.results.stats.groups import group_rows
from hypermetric.results.stats.perquery import check_metrics, id_column, split_examples, values

if TYPE_CHECKING:
    import pyarrow as pa

INT_COLUMNS = frozenset({"n", "cases", "missing", "unpaired"})


def case_values(table: pa.Table, axes: Sequence[str], metrics: Sequence[str],
                id_col: str | None) -> tuple[list[tuple[Any, ...]], np.ndarray]:
    """Every case's key (in order of first appearance) and an (cases x metrics) matrix of its values.

    With an id column a case's value is the mean of its examples; without one, the mean of its rows (one,
    unless the output held several records). A case with no value (failed, missing) gives NaN.
    """
    cases = group_rows(table, axes)
    use = np.ones(table.num_rows, bool)
    if id_col is not None:
        import pyarrow.compute as pc

        ids = pc.cast(table.column(id_col), "string")
        use = ~pc.fill_null(pc.equal(ids, "all"), True).to_numpy(zero_copy_only=False)
    matrix = np.full((len(cases.keys), len(metrics)), np.nan)
    for j, metric in enumerate(metrics):
        column = values(table, metric)
        ok = use & ~np.isnan(column)
        sums = np.bincount(cases.codes[ok], weights=column[ok], minlength=len(cases.keys))
        counts = np.bincount(cases.codes[ok], minlength=len(cases.keys))
        with np.errstate(invalid="ignore", divide="ignore"):
            matrix[:, j] = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
    return cases.keys, matrix


def column_stats(matrix: np.ndarray, stats: Sequence[str], resampling: Resampling,
                 rng: np.random.Generator) -> dict[str, np.ndarray]:
    """The statistics asked of each column of `matrix`, NaN left out: a name -> (k,) array mapping.

    `ci` gives `ci_low` and `ci_high`; `std` is the sample standard deviation (NaN for fewer than 2 values).
    """
    k = matrix.shape[1]
    present = ~np.isnan(matrix)
    n = present.sum(axis=0)
    out: dict[str, np.ndarray] = {}
    with np.errstate(invalid="ignore", divide="ignore"), _quiet():
        for stat in stats:
            if stat == "n":
                out["n"] = n
            elif stat == "mean":
                out["mean"] = np.nanmean(matrix, axis=0) if len(matrix) else np.full(k, np.nan)
            elif stat == "median":
                out["median"] = np.nanmedian(matrix, axis=0) if len(matrix) else np.full(k, np.nan)
            elif stat == "std":
                out["std"] = np.where(n > 1, np.nanstd(matrix, axis=0, ddof=1) if len(matrix) else np.nan, np.nan)
            elif stat in ("min", "max"):
                reduce = np.nanmin if stat == "min" else np.nanmax
                out[stat] = reduce(matrix, axis=0) if len(matrix) else np.full(k, np.nan)
            elif stat == "ci":
                out["ci_low"], out["ci_high"] = _cis(matrix, present, resampling, rng)
    return out


def _cis(matrix: np.ndarray, present: np.ndarray, resampling: Resampling,
         rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Columns without NaN share one set of resamples; a column with gaps is resampled on its own values."""
    k = matrix.shape[1]
    low, high = np.full(k, np.nan), np.full(k, np.nan)
    full = present.all(axis=0)
    if full.any() and len(matrix):
        low[full], high[full] = bootstrap_mean_cis(matrix[:, full], resampling, rng=rng)
    for j in np.flatnonzero(~full):
        low[j], high[j] = bootstrap_mean_ci(matrix[:, j], resampling, rng=rng)
    return low, high


class _quiet:
    """Silence numpy's warnings about empty slices, whose NaN results are what we want."""

    def __enter__(self) -> None:
        import warnings

        self._catch = warnings.catch_warnings()
        self._catch.__enter__()
        warnings.simplefilter("ignore", RuntimeWarning)

    def __exit__(self, *exc: Any) -> None:
        self._catch.__exit__(*exc)


def case_rows(table: pa.Table, examples: pa.Table, axes: Sequence[str], metrics: Sequence[str],
              resampling: Resampling) -> list[dict[str, Any]]:
    """Rows of `case_cis`: every case of `table`, its examples' n, mean and interval per metric."""
    by_case = group_rows(examples, axes)
    index = {key: g for g, key in enumerate(by_case.keys)}
    columns = np.column_stack([values(examples, m) for m in metrics]) if metrics else np.empty((0, 0))
    rows: list[dict[str, Any]] = []
    for position, key in enumerate(group_rows(table, axes).keys):
        g = index.get(key)
        matrix = columns[by_case.rows[g]] if g is not None else np.empty((0, len(metrics)))
        stats = column_stats(matrix, ("n", "mean", "ci"), resampling, resampling.rng(position))
        rows.extend(long_rows(axes, key, metrics, stats))
    return rows


def long_rows(axes: Sequence[str], key: Sequence[Any], metrics: Sequence[str],
              stats: dict[str, np.ndarray], **extra: Any) -> list[dict[str, Any]]:
    """One row per metric: the group's key, `metric`, `extra` columns, then each statistic's value."""
    head = dict(zip(axes, key, strict=True))
    return [{**head, "metric": metric, **extra, **{name: column[j] for name, column in stats.items()}}
            for j, metric in enumerate(metrics)]


def summary_table(rows: list[dict[str, Any]], axes: Sequence[str], stats: Sequence[str]) -> pa.Table:
    """Long-form rows to a table: string key columns, int64 counts, float64 statistics (NaN as null)."""
    import pyarrow as pa

    names = list(rows[0]) if rows else [*axes, "metric", *stats]
    arrays = [_array([row.get(name) for row in rows], name, axes, pa) for name in names]
    return pa.Table.from_arrays(arrays, names=names)


def _array(column: list[Any], name: str, axes: Sequence[str], pa: Any) -> Any:
    if name in axes or name in ("metric", "baseline", "test"):
        return pa.array([None if v is None else str(v) for v in column], pa.string())
    if name in INT_COLUMNS:
        return pa.array([int(v) for v in column], pa.int64())
    if name == "significant":
        return pa.array([None if v is None else bool(v) for v in column], pa.bool_())
    cells = [None if v is None or np.isnan(v) else float(v) for v in column]
    return pa.array(cells, pa.float64())


def example_rows(table: pa.Table, id_col: str | None) -> pa.Table:
    """The example rows of `table` (all of it without an id column)."""
    return table if id_col is None else split_examples(table, id_col)[0]


def case_cis(table: pa.Table, axes: Sequence[str], metrics: Sequence[str] | None = None, *,
             id_col: str | None = None, resampling: Resampling = Resampling()) -> pa.Table:
    """Per case and metric, the mean of its examples and its bootstrap interval.

    Columns: the axes, `metric`, `n` (examples with a value), `mean`, `ci_low`, `ci_high`. A case without
    examples (failed, missing) keeps its rows with `n` = 0 and null statistics.
    """
    id_col = id_column(table, id_col)
    if id_col is None:
        raise UsageError("confidence intervals need a row per example, and the table has one row per case",
                         help="add --per-query (trec_eval `-q` lines), or give outputs with an `id` column")
    chosen = check_metrics(table, axes, metrics, id_col)
    examples, _ = split_examples(table, id_col)
    rows = case_rows(table, examples, axes, chosen, resampling)
    return summary_table(rows, axes, ["n", "mean", "ci_low", "ci_high"])
