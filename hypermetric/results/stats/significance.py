"""Significance along an axis: every key of the axis against a baseline key, on the examples they share.

Examples are paired by their id within each group of the other axes (a dataset, say): the difference of
two keys on one example is one observation. Without an id column the cases themselves are the examples,
paired by their keys on the other axes, in one group. Examples present on one side only are counted in
`unpaired`, never dropped in silence. The p-values of the keys compared within one group and metric form
one family, corrected with Holm's method; `significant` is the corrected p-value below `alpha`. The effect
is the difference of the means on the paired examples, with its paired bootstrap interval. The groups are
independent, so they are computed side by side on threads (see `threads`), each with its own generator.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from hypermetric.errors import AxisError, UsageError
from hypermetric.results.stats.bootstrap import Resampling, bootstrap_mean_cis
from hypermetric.results.stats.groups import arrow_indices, column_codes, group_rows
from hypermetric.results.stats.perquery import check_metrics, id_column, split_examples, values
from hypermetric.results.stats.pvalues import TEST_NAMES, TESTS, check_test, holm, paired_pvalues
from hypermetric.results.stats.summary import case_values, summary_table
from hypermetric.results.stats.threads import map_in_threads
from hypermetric.suggest import help_did_you_mean, join_names

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["TESTS", "holm", "paired_pvalues", "significance"]

COLUMNS = ("n", "unpaired", "mean", "baseline_mean", "delta", "ci_low", "ci_high", "p", "p_holm",
           "significant", "test")


@dataclass
class Cube:
    """One group's values: `data[key, unit, metric]`, NaN where a key has no value for an example."""

    group: tuple[Any, ...]
    axis: str
    keys: list[str]
    data: np.ndarray


def significance(table: pa.Table, axes: Sequence[str], axis: str, baseline: str | None = None, *,
                 metrics: Sequence[str] | None = None, id_col: str | None = None, test: str = "permutation",
                 alpha: float = 0.05, resampling: Resampling = Resampling()) -> pa.Table:
    """One row per group of the other axes, metric and key of `axis` other than `baseline` (see the module).

    `baseline` defaults to the first key of `axis` in the table.
    """
    check_test(test)
    keys = axis_keys(table, axes, axis)
    baseline = choose_baseline(axis, keys, baseline)
    id_col = id_column(table, id_col)
    chosen = check_metrics(table, axes, metrics, id_col)
    others = [a for a in axes if a != axis]
    cubes = _example_cubes(table, others, axis, id_col, chosen) if id_col else [_case_cube(table, axes, axis,
                                                                                          chosen)]
    def compare(numbered: tuple[int, Cube]) -> list[dict[str, Any]]:
        position, cube = numbered
        return _compare_cube(cube, baseline, chosen, test, alpha, resampling, position)

    rows = [row for part in map_in_threads(compare, enumerate(cubes)) for row in part]
    group_axes = others if id_col else []
    for row in rows:
        row.update(dict(zip(group_axes, row.pop("_group"), strict=True)))
    ordered = [{**{a: row[a] for a in group_axes}, **{k: v for k, v in row.items() if k not in group_axes}}
               for row in rows]
    return summary_table(ordered, [*group_axes, axis], list(COLUMNS))


def axis_keys(table: pa.Table, axes: Sequence[str], axis: str) -> list[str]:
    """The keys of `axis` in the table, in order of first appearance; an error unless there are two."""
    if axis not in axes:
        raise AxisError(f"cannot test along `{axis}`: the target's axes are {join_names(axes, 'and')}",
                        help=help_did_you_mean(axis, axes) or "name an axis the task depends on")
    keys = table.column(axis).unique().to_pylist()  # Arrow keeps the order of first appearance
    if len(keys) < 2:
        raise UsageError(f"axis `{axis}` has only one key in the target (`{keys[0] if keys else ''}`): "
                         "there is nothing to compare", help=f"select several keys, e.g. `task[{axis}: *]`")
    return keys


def choose_baseline(axis: str, keys: Sequence[str], baseline: str | None) -> str:
    """`baseline` if it is a key of the axis in the table; the first key when None."""
    if baseline is None:
        return keys[0]
    if baseline not in keys:
        raise UsageError(f"`{baseline}` is not a key of `{axis}` in the target",
                         help=help_did_you_mean(baseline, keys) or f"keys: {join_names(keys, 'and')}")
    return baseline


def _example_cubes(table: pa.Table, others: Sequence[str], axis: str, id_col: str,
                   metrics: Sequence[str]) -> list[Cube]:
    examples, _ = split_examples(table, id_col)
    columns = np.column_stack([values(examples, m) for m in metrics])
    groups = group_rows(examples, others)
    cubes = []
    for group, rows in zip(groups.keys, groups.rows, strict=True):
        part = examples.take(arrow_indices(rows))
        by_key = group_rows(part, [axis])
        units, count = column_codes(part.column(id_col))  # ids only need a number each, not their rows
        data = np.full((len(by_key.keys), count, len(metrics)), np.nan)
        data[by_key.codes, units] = columns[rows]
        cubes.append(Cube(group, axis, [k[0] for k in by_key.keys], data))
    return cubes


def _case_cube(table: pa.Table, axes: Sequence[str], axis: str, metrics: Sequence[str]) -> Cube:
    keys, matrix = case_values(table, axes, metrics, None)
    where = list(axes).index(axis)
    axis_keys_ = list(dict.fromkeys(key[where] for key in keys))
    units = list(dict.fromkeys(key[:where] + key[where + 1:] for key in keys))
    data = np.full((len(axis_keys_), len(units), len(metrics)), np.nan)
    for key, row in zip(keys, matrix, strict=True):
        data[axis_keys_.index(key[where]), units.index(key[:where] + key[where + 1:])] = row
    return Cube((), axis, axis_keys_, data)


def _compare_cube(cube: Cube, baseline: str, metrics: Sequence[str], test: str, alpha: float,
                  resampling: Resampling, position: int) -> list[dict[str, Any]]:
    """The rows of one group: each key against the baseline, per metric, Holm-corrected per metric."""
    if baseline not in cube.keys:
        return []
    base = cube.data[cube.keys.index(baseline)]
    pairs = [(k, m) for k, key in enumerate(cube.keys) if key != baseline for m in range(len(metrics))]
    batches: dict[bytes, list[tuple[int, int]]] = {}
    masks = {}
    for k, m in pairs:
        mask = ~np.isnan(cube.data[k, :, m]) & ~np.isnan(base[:, m])
        masks[k, m] = mask
        batches.setdefault(np.packbits(mask).tobytes(), []).append((k, m))
    found: dict[tuple[int, int], dict[str, Any]] = {}
    for b, batch in enumerate(batches.values()):
        mask = masks[batch[0]]
        diffs = np.column_stack([cube.data[k, mask, m] - base[mask, m] for k, m in batch])
        p = paired_pvalues(diffs, test, resampling, rng=resampling.rng(position, b, 0))
        low, high = bootstrap_mean_cis(diffs, resampling, rng=resampling.rng(position, b, 1))
        for j, (k, m) in enumerate(batch):
            found[k, m] = _row(cube, k, m, mask, base, p[j], low[j], high[j], baseline, metrics)
    for m in range(len(metrics)):
        family = [found[k, mm] for k, mm in pairs if mm == m]
        for row, adjusted in zip(family, holm(np.array([r["p"] for r in family])), strict=True):
            row["p_holm"] = adjusted
            row["significant"] = None if np.isnan(adjusted) else bool(adjusted < alpha)
            row["test"] = TEST_NAMES[test]
    return [found[pair] for pair in pairs]


def _row(cube: Cube, k: int, m: int, mask: np.ndarray, base: np.ndarray, p: float, low: float, high: float,
         baseline: str, metrics: Sequence[str]) -> dict[str, Any]:
    ours = cube.data[k, :, m]
    one_side = ~np.isnan(ours) ^ ~np.isnan(base[:, m])
    n = int(mask.sum())
    mean = float(ours[mask].mean()) if n else np.nan
    base_mean = float(base[mask, m].mean()) if n else np.nan
    return {"_group": cube.group, "metric": metrics[m], cube.axis: cube.keys[k], "baseline": baseline,
            "n": n, "unpaired": int(one_side.sum()), "mean": mean, "baseline_mean": base_mean,
            "delta": mean - base_mean, "ci_low": low, "ci_high": high, "p": p}
