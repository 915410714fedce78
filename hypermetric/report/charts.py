"""Charts of a task's results: per metric, bars over one axis (coloured by the other axes that vary), with
bootstrap confidence intervals when the output has per-example rows.

The charts are Vega-Lite specifications built with altair and rendered to SVG by vl-convert, which carries its
own copy of Vega, so the report needs no network and no script to draw them. Both libraries are imported here,
inside the functions, so that only `report` pays for them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hypermetric.results.collect import READ

if TYPE_CHECKING:
    import pyarrow as pa

    from hypermetric.report.collect import TaskResults

MAX_CHARTS = 24
SERIES = "series"
CHART_W = 360
CHART_H = 200


@dataclass
class Chart:
    """One metric's chart: its name, the SVG, and whether it shows confidence intervals."""

    metric: str
    svg: str
    with_ci: bool


@dataclass
class ChartSet:
    """A task's charts, the axis they run over, and a note on what was left out."""

    axis: str | None
    charts: list[Chart]
    note: str | None = None


def chart_results(result: TaskResults, axis: str | None = None) -> ChartSet:
    """The charts of one task's results table over `axis` (default: the first axis with several keys)."""
    table = result.table
    varying = [a for a in result.axes if len(set(table.column(a).to_pylist())) > 1]
    x = axis if axis in result.axes else (varying[0] if varying else (result.axes[0] if result.axes else None))
    if x is None or table.num_rows == 0:
        return ChartSet(None, [], "nothing to chart: the task has no axis" if x is None else "no rows")
    series = [a for a in varying if a != x]
    points, metrics, with_ci = _points(table, result.axes)
    shown = metrics[:MAX_CHARTS]
    note = None
    if len(metrics) > len(shown):
        note = f"{len(metrics) - len(shown)} more metrics not charted; choose fields with --columns"
    if not metrics:
        note = "no numeric field to chart"
    keys = list(dict.fromkeys(table.column(x).to_pylist()))
    charts = []
    for metric in shown:
        rows = [dict(p, **{SERIES: _series(p, series)}) for p in points if p["metric"] == metric]
        rows = [r for r in rows if r["mean"] is not None]
        order = list(dict.fromkeys(r[SERIES] for r in rows)) if series else []
        charts.append(Chart(metric, render_svg(_spec(rows, x, keys, metric, order, with_ci)), with_ci))
    return ChartSet(x, charts, note)


def _series(point: dict[str, Any], axes: Sequence[str]) -> str:
    return ", ".join(f"{a}: {point[a]}" for a in axes)


def _points(table: pa.Table, axes: Sequence[str]) -> tuple[list[dict[str, Any]], list[str], bool]:
    """Long rows (axes, `metric`, `mean`, and `ci_low`/`ci_high` when there are several rows per case), the
    metrics, and whether there are intervals."""
    from hypermetric.results.stats.perquery import id_column, metric_columns

    id_col = id_column(table)
    metrics = metric_columns(table, axes, id_col)
    if not metrics:
        return [], [], False
    if id_col is None and _one_row_per_case(table, axes):
        done = [row for row in table.to_pylist() if row.get("status") in READ]
        rows = [{**{a: row[a] for a in axes}, "metric": m, "mean": _number(row[m])} for row in done for m in metrics]
        return rows, metrics, False
    from hypermetric.results.stats.summary import case_cis

    if id_col is None:  # several unnamed rows per case: each row is an example, named by its number
        import pyarrow as pa

        id_col = "\x00row"
        table = table.append_column(id_col, pa.array([str(i) for i in range(table.num_rows)]))
    cis = case_cis(table, axes, metrics, id_col=id_col)
    rows = [{**row, "mean": _number(row["mean"])} for row in cis.to_pylist() if row["n"]]
    return rows, metrics, True


def _one_row_per_case(table: pa.Table, axes: Sequence[str]) -> bool:
    columns = [table.column(a).to_pylist() for a in axes]
    return len(set(zip(*columns))) == table.num_rows if columns else table.num_rows <= 1


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
        return None
    return float(value)


def _spec(rows: list[dict[str, Any]], x: str, keys: list[Any], metric: str, series: list[str],
          with_ci: bool) -> dict[str, Any]:
    """A Vega-Lite bar chart of `mean` over `x` (one bar per series side by side, in `series` order), with
    CI rules."""
    import altair as alt

    angle = 0 if len(keys) <= 6 else -45   # a few keys read best level; many need the room a slant gives
    axis = alt.Axis(labelAngle=angle, labelLimit=160)
    base = alt.Chart(alt.Data(values=rows)).encode(x=alt.X(f"{_field(x)}:N", sort=keys, title=x, axis=axis))
    if series:
        base = base.encode(xOffset=alt.XOffset(f"{SERIES}:N", sort=series))
    color = alt.Color(f"{SERIES}:N", title=None, sort=series) if series else alt.value("#4c78a8")
    tooltip = [alt.Tooltip(f"{_field(x)}:N"), alt.Tooltip("mean:Q", format=".4f")]
    bars = base.mark_bar().encode(y=alt.Y("mean:Q", title=metric), color=color, tooltip=tooltip)
    layers = [bars]
    if with_ci:
        layers.append(base.mark_rule(color="#1f2933", strokeWidth=1.5).encode(y="ci_low:Q", y2="ci_high:Q"))
    chart = alt.layer(*layers).properties(width=CHART_W, height=CHART_H, title=metric)
    return chart.to_dict()


def _field(name: str) -> str:
    """An axis name as a Vega-Lite field: dots and brackets would otherwise address nested data."""
    return name.replace("\\", "\\\\").replace(".", "\\.").replace("[", "\\[").replace("]", "\\]")


def render_svg(spec: dict[str, Any]) -> str:
    """A Vega-Lite specification drawn as an SVG document, offline."""
    import vl_convert

    svg = vl_convert.vegalite_to_svg(spec)
    return svg.replace("<svg ", '<svg class="chart" ', 1)
