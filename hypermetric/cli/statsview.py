"""The statistics options of `results` (`--agg`, `--ci`, `--significance`, `--compare`, `--chart`): their
declarations, the request they make, and how the answer is shown. The computing is in
`hypermetric.results.stats`; this module only parses and prints."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Annotated, Any, Optional

import typer

AggOpt = Annotated[Optional[list[str]], typer.Option(
    "--agg", help="Aggregate over this axis (repeatable): mean, std and n of each metric per other axes.")]
StatsOpt = Annotated[Optional[str], typer.Option(
    "--stats", help="Statistics of --agg, comma-separated: mean,median,std,min,max,n,ci.")]
CiOpt = Annotated[bool, typer.Option("--ci", help="A bootstrap confidence interval of each mean "
                                                 "(over the examples of --per-query rows, or the cases of --agg).")]
CiLevelOpt = Annotated[float, typer.Option("--ci-level", help="Coverage of the intervals.")]
ResamplesOpt = Annotated[int, typer.Option("--resamples", help="Bootstrap or randomization resamples.")]
SeedOpt = Annotated[int, typer.Option("--seed", help="Seed of the resampling (same seed, same output).")]
SignificanceOpt = Annotated[Optional[str], typer.Option(
    "--significance", help="Compare every key of this axis with the baseline key, on paired examples.")]
BaselineOpt = Annotated[Optional[str], typer.Option(
    "--baseline", help="The key compared against (default: the axis's default key).")]
TestOpt = Annotated[str, typer.Option(
    "--test", help="permutation (paired randomization test) or bootstrap (paired bootstrap test).")]
AlphaOpt = Annotated[float, typer.Option("--alpha", help="Level below which a Holm-corrected p is significant.")]
CompareOpt = Annotated[Optional[str], typer.Option(
    "--compare", help="A table written earlier with --to: value, baseline value and delta per case.")]
ChartOpt = Annotated[Optional[str], typer.Option("--chart", help="Draw each metric across this axis.")]
IdOpt = Annotated[Optional[str], typer.Option(
    "--id", help="The column naming each example (default: id, qid, query_id, example_id or row_id).")]


def make_request(*, agg: list[str] | None, stats: str | None, ci: bool, ci_level: float, resamples: int,
                 seed: int, significance: str | None, baseline: str | None, test: str, alpha: float,
                 compare: str | None, metrics: list[str] | None, id_col: str | None) -> Any:
    """The `StatsRequest` of the options, checked."""
    from hypermetric.results.stats.aggregate import parse_stats
    from hypermetric.results.stats.bootstrap import Resampling
    from hypermetric.results.stats.pvalues import check_test
    from hypermetric.results.stats.request import StatsRequest

    request = StatsRequest(
        agg=tuple(agg or ()), stats=tuple(parse_stats(stats)) if stats is not None else None, ci=ci,
        significance=significance, baseline=baseline, test=check_test(test), alpha=alpha, compare=compare,
        metrics=tuple(metrics) if metrics else None, id_col=id_col,
        resampling=Resampling(resamples=resamples, level=ci_level, seed=seed))
    request.check()
    return request


def as_long_table(table: Any, axes: list[str], id_col: str | None) -> tuple[Any, list[str]]:
    """A plain results table as one mean per case and metric, for a chart."""
    from hypermetric.results.stats.aggregate import aggregate

    return aggregate(table, axes, [], ("mean",), id_col=id_col), [*axes, "metric"]


def for_display(table: Any) -> Any:
    """The table as a person reads it on a terminal (files and pipes get every column as computed): an
    interval as one `[low, high]` cell, a significant difference marked `*`, and the columns that the title
    already says (baseline, test) or that say nothing (no unpaired example) left out."""
    import pyarrow as pa

    from hypermetric.results.arrow import format_value

    names = table.column_names
    if "ci_low" in names and "ci_high" in names:
        cells = [None if low is None else f"[{format_value(low)}, {format_value(high)}]"
                 for low, high in zip(table.column("ci_low").to_pylist(), table.column("ci_high").to_pylist(),
                                      strict=True)]
        table = table.set_column(names.index("ci_low"), "ci", pa.array(cells, pa.string())).drop(["ci_high"])
    if "significant" not in names:
        return table
    marks = ["*" if v else "" for v in table.column("significant").to_pylist()]
    table = table.set_column(table.column_names.index("significant"), "sig", pa.array(marks, pa.string()))
    baselines = set(table.column("baseline").to_pylist())
    if len(baselines) == 1 and (key := str(baselines.pop())) not in table.column_names:
        table = table.rename_columns([key if n == "baseline_mean" else n for n in table.column_names])
    dropped = ["baseline", "test", "p"]
    if not any(table.column("unpaired").to_pylist()):
        dropped.append("unpaired")
    return table.drop(dropped)


def print_notes(title: str, notes: list[str], extra: Sequence[tuple[str, Any]] = ()) -> None:
    """The statistic's title, what it left out, and the cases found on one side of a comparison, on stderr
    so that piped output stays one clean table."""
    for line in ([title] if title else []) + notes:
        sys.stderr.write(f"{line}\n")
    for name, table in extra:
        sys.stderr.write(f"{name}:\n")
        for row in table.to_pylist():
            sys.stderr.write("  " + (", ".join(f"{k}={v}" for k, v in row.items()) or "default") + "\n")


def print_charts(table: Any, keys: list[str], axis: str, color: str) -> None:
    from hypermetric.cli.chart import MAX_CHARTS, charts
    from hypermetric.cli.console import make_console, use_color

    width = min(make_console(color).width, 100)
    texts, left = charts(table, keys, axis, width=width, color=use_color(color))
    for text in texts:
        sys.stdout.write(text.rstrip("\n") + "\n\n")
    if left:
        sys.stderr.write(f"{left} more metrics not drawn (at most {MAX_CHARTS}); choose them with --columns\n")
