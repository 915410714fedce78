"""`results`: one Arrow table across the cases of a task tensor; a box table on a terminal, CSV to a pipe."""

from __future__ import annotations

import sys
from typing import Annotated, Literal, Optional

import typer

from hypermetric import api
from hypermetric.cli.options import Common, command
from hypermetric.cli.session import open_session
from hypermetric.cli.statsview import (
    AggOpt,
    AlphaOpt,
    BaselineOpt,
    ChartOpt,
    CiLevelOpt,
    CiOpt,
    CompareOpt,
    IdOpt,
    ResamplesOpt,
    SeedOpt,
    SignificanceOpt,
    StatsOpt,
    TestOpt,
)

OutputOpt = Annotated[Optional[str], typer.Option("--output", "-o", help="Which output of the task to read.")]
PivotOpt = Annotated[Optional[list[str]], typer.Option("--pivot", help="Spread this axis into columns.")]
ToOpt = Annotated[Optional[str], typer.Option("--to", help="Write the table to FILE (.parquet, .csv, .json).")]
FormatOpt = Annotated[Optional[Literal["table", "csv", "json", "parquet"]], typer.Option(
    "--format", help="table, csv, json or parquet (with --to); default: a table on a terminal, csv elsewhere.")]
MetaOpt = Annotated[bool, typer.Option("--meta", help="Add status, duration, attempt and host of each job.")]
PerQueryOpt = Annotated[bool, typer.Option("--per-query", help="Keep per-query lines of trec_eval output.")]
ColumnsOpt = Annotated[Optional[str], typer.Option("--columns", "-c",
                                                   help="Comma-separated fields to keep (glob patterns allowed).")]

def register(app: typer.Typer) -> None:
    command(app, "results", "Read one output of every case of a task tensor into one table.")(cmd_results)


def cmd_results(c: Common, output: OutputOpt = None, pivots: PivotOpt = None, to: ToOpt = None,
                format: FormatOpt = None, meta: MetaOpt = False, per_query: PerQueryOpt = False,
                columns: ColumnsOpt = None, agg: AggOpt = None, stats: StatsOpt = None, ci: CiOpt = False,
                ci_level: CiLevelOpt = 0.95, resamples: ResamplesOpt = 1000, seed: SeedOpt = 0,
                significance: SignificanceOpt = None, baseline: BaselineOpt = None, test: TestOpt = "permutation",
                alpha: AlphaOpt = 0.05, compare: CompareOpt = None, chart: ChartOpt = None,
                id_col: IdOpt = None) -> int:
    from hypermetric.cli.parse_errors import single_value
    from hypermetric.cli.statsview import make_request
    from hypermetric.cli.tableview import print_table

    pivot = single_value("--pivot", pivots)
    request = make_request(agg=agg, stats=stats, ci=ci, ci_level=ci_level, resamples=resamples, seed=seed,
                           significance=significance, baseline=baseline, test=test, alpha=alpha,
                           compare=compare, metrics=None, id_col=id_col)

    s = open_session(c)
    s.require_targets()
    found = api.result_table(s.pipeline, s.targets, output=output, per_query=per_query, meta=meta,
                             columns=columns)
    table, axes = found.table, found.axes
    _warn_outdated(found.table)
    keys = axes
    if request.active or chart:
        table, keys = _statistics(s.pipeline, found, request, chart, c.color)
        if table is None:
            return 0
    if to:
        path = api.write_table(table, to, None if format in (None, "table") else format)
        sys.stderr.write(f"wrote {table.num_rows} rows to {path}\n")
        return 0
    if keys is not axes and (format or ("table" if sys.stdout.isatty() else "csv")) == "table":
        from hypermetric.cli.statsview import for_display

        table = for_display(table)
    print_table(table, keys, pivot, format, c.color)
    return 0


def _statistics(pipeline: api.Pipeline, found: api.ResultTable, request, chart: str | None, color: str):
    """The statistics asked of the table and their key columns; (None, []) once a chart is drawn."""
    from hypermetric.cli.statsview import as_long_table, print_charts, print_notes

    table, keys = found.table, found.axes
    if request.active:
        result = api.statistics(pipeline, found, request)
        print_notes(result.title, result.notes, result.extra)
        table, keys = result.table, result.keys
    if chart is None:
        return table, keys
    if not request.active:
        table, keys = as_long_table(table, found.axes, request.id_col)
    print_charts(table, keys, chart, color)
    return None, []


def _warn_outdated(table) -> None:
    """Say on stderr when values come from jobs whose inputs, values or script changed since they ran."""
    if "status" not in table.column_names:
        return
    stale = sum(1 for status in table.column("status").to_pylist() if status == "OUTDATED")
    if stale:
        cases = "case is" if stale == 1 else "cases are"
        sys.stderr.write(f"warning: {stale} {cases} OUTDATED: their values were made from an older pipeline "
                         "(`hypermetric dry-run` says why; `hypermetric run` brings them up to date)\n")
