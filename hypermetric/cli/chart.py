"""`results --chart AXIS`: each metric drawn across the keys of one axis, in the terminal, with plotext.

The chart reads a long-form statistics table (a row per group and metric): the y value is its `mean`
(or `value`, `delta`), the x position the key of AXIS, one line per combination of the other key columns,
and a vertical bar from `ci_low` to `ci_high` where the table has intervals. plotext is imported here only,
when a chart is asked for.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hypermetric.errors import UsageError
from hypermetric.suggest import help_did_you_mean, join_names

Y_COLUMNS = ("mean", "value", "delta", "median")
MAX_CHARTS = 6
_COLORS = ("blue+", "red+", "green+", "orange+", "magenta+", "cyan+", "yellow", "gray")


def charts(table: Any, keys: Sequence[str], axis: str, *, width: int, color: bool) -> tuple[list[str], int]:
    """The text of one chart per metric (at most `MAX_CHARTS`) and how many metrics were left out."""
    if axis not in keys or axis == "metric":
        choices = [k for k in keys if k != "metric"]
        raise UsageError(f"cannot chart across `{axis}`: the table's axes are {join_names(choices, 'and')}",
                         help=help_did_you_mean(axis, choices) or "chart across an axis of the target")
    y = next((c for c in Y_COLUMNS if c in table.column_names), None)
    if y is None:
        raise UsageError("nothing to chart: the statistics asked have no mean", help="add `mean` to --stats")
    rows = table.to_pylist()
    metrics = list(dict.fromkeys(row["metric"] for row in rows))
    out = [_chart(rows, metric, keys, axis, y, width, color) for metric in metrics[:MAX_CHARTS]]
    return out, max(0, len(metrics) - MAX_CHARTS)


def _chart(rows: list[dict[str, Any]], metric: str, keys: Sequence[str], axis: str, y: str, width: int,
           color: bool) -> str:
    import plotext as plt

    mine = [row for row in rows if row["metric"] == metric]
    xs = list(dict.fromkeys(row[axis] for row in mine))
    others = [k for k in keys if k not in (axis, "metric")]
    series: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for row in mine:
        series.setdefault(tuple(row[k] for k in others), []).append(row)
    plt.clear_figure()
    plt.plotsize(width, 18)
    plt.theme("clear" if not color else "pro")
    spread = 0.3 / max(len(series), 1)
    for i, (name, points) in enumerate(series.items()):
        _draw_series(plt, points, xs, axis, y, i * spread, _COLORS[i % len(_COLORS)],
                     ", ".join(f"{k}={v}" for k, v in zip(others, name, strict=True)) if len(series) > 1 else None)
    plt.xticks(list(range(1, len(xs) + 1)), [str(x) for x in xs])
    plt.xlim(0.5, len(xs) + 0.5)
    plt.xlabel(axis)
    plt.title(f"{metric} ({y}{', bars: CI' if 'ci_low' in mine[0] else ''})")
    text = plt.build()
    return text if color else plt.uncolorize(text)


def _draw_series(plt: Any, points: list[dict[str, Any]], xs: list[Any], axis: str, y: str, offset: float,
                 color: str, label: str | None) -> None:
    where = [(xs.index(p[axis]) + 1 + offset, p) for p in points if p.get(y) is not None]
    if not where:
        return
    plt.plot([x for x, _ in where], [p[y] for _, p in where], marker="hd", color=color, label=label)
    for x, p in where:
        if p.get("ci_low") is not None and p.get("ci_high") is not None:
            plt.plot([x, x], [p["ci_low"], p["ci_high"]], marker="│", color=color)
