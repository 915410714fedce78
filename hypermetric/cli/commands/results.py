"""`results`: one Arrow table across the cases of a task tensor; a box table on a terminal, CSV to a pipe."""

from __future__ import annotations

import os
import sys
from typing import Annotated, Literal, Optional

import typer

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
from hypermetric.errors import UsageError

OutputOpt = Annotated[Optional[str], typer.Option("--output", "-o", help="Which output of the task to read.")]
PivotOpt = Annotated[Optional[list[str]], typer.Option("--pivot", help="Spread this axis into columns.")]
ToOpt = Annotated[Optional[str], typer.Option("--to", help="Write the table to FILE (.parquet, .csv, .json).")]
FormatOpt = Annotated[Optional[Literal["table", "csv", "json", "parquet"]], typer.Option(
    "--format", help="table, csv, json or parquet (with --to); default: a table on a terminal, csv elsewhere.")]
MetaOpt = Annotated[bool, typer.Option("--meta", help="Add status, duration, attempt and host of each job.")]
PerQueryOpt = Annotated[bool, typer.Option("--per-query", help="Keep per-query lines of trec_eval output.")]
ColumnsOpt = Annotated[Optional[str], typer.Option("--columns", "-c",
                                                   help="Comma-separated fields to keep (glob patterns allowed).")]

_JOB_STATUS = {"COMPLETE": "done", "FAILED": "failed", "PENDING": "pending"}


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
    from hypermetric.results.assemble import collect_table

    pivot = single_value("--pivot", pivots)
    request = make_request(agg=agg, stats=stats, ci=ci, ci_level=ci_level, resamples=resamples, seed=seed,
                           significance=significance, baseline=baseline, test=test, alpha=alpha,
                           compare=compare, metrics=None, id_col=id_col)

    s = open_session(c)
    graph = s.plan()
    jobs = [graph.jobs[i] for i in graph.targets]
    names = {job.name for job in jobs}
    if len(names) != 1:
        raise UsageError("`results` reads one task tensor at a time",
                         notes=[f"the targets name {', '.join(sorted(names)) or 'no task'}"])
    output_file = _choose_output(jobs[0], output)
    axes = [axis for axis, _ in jobs[0].full_case]
    cases = [_case_result(job, output_file) for job in jobs]
    table = collect_table(cases, axes, per_query=per_query, with_meta=meta)
    if columns:
        table = select_columns(table, axes, columns)
    keys = axes
    if request.active or chart:
        table, keys = _statistics(s, table, axes, request, chart, c.color)
        if table is None:
            return 0
    if to:
        from hypermetric.results.arrow import write_table

        path = write_table(table, to, None if format in (None, "table") else format)
        sys.stderr.write(f"wrote {table.num_rows} rows to {path}\n")
        return 0
    if keys is not axes and (format or ("table" if sys.stdout.isatty() else "csv")) == "table":
        from hypermetric.cli.statsview import for_display

        table = for_display(table)
    _print(table, keys, pivot, format, c.color)
    return 0


def _statistics(s, table, axes: list[str], request, chart: str | None, color: str):
    """The statistics asked of `table` and their key columns; (None, []) once a chart is drawn."""
    from hypermetric.cli.statsview import as_long_table, print_charts, print_notes
    from hypermetric.results.stats.request import compute

    keys = axes
    if request.active:
        defaults = {axis: s.pipeline.axis(axis).default for axis in axes}
        result = compute(table, axes, request, default_keys=defaults)
        print_notes(result.title, result.notes, result.extra)
        table, keys = result.table, result.keys
    if chart is None:
        return table, keys
    if not request.active:
        table, keys = as_long_table(table, axes, request.id_col)
    print_charts(table, keys, chart, color)
    return None, []


def select_columns(table, axes: list[str], patterns: str):
    """Keep the axis columns, `status`, and the fields matching any of the comma-separated globs."""
    from fnmatch import fnmatchcase

    wanted = [p.strip() for p in patterns.split(",") if p.strip()]
    fields = [c for c in table.column_names if c not in axes and c not in ("status", "error", "id")]
    keep = [c for c in fields if any(fnmatchcase(c, p) for p in wanted)]
    unmatched = [p for p in wanted if not any(fnmatchcase(c, p) for c in fields)]
    if unmatched:
        from hypermetric.suggest import help_did_you_mean

        raise UsageError(f"no field matches `{unmatched[0]}`", help=help_did_you_mean(unmatched[0], fields))
    base = [c for c in table.column_names if c in axes or c in ("status", "error", "id")]
    return table.select(base + keep)


def _choose_output(job, name: str | None) -> str:
    outputs = dict(job.outputs)
    if name is not None:
        if name not in outputs:
            from hypermetric.suggest import help_did_you_mean

            raise UsageError(f"task `{job.name}` has no output `{name}`", help=help_did_you_mean(name, outputs))
        return outputs[name]
    if len(outputs) != 1:
        listed = ", ".join(f"`{n}`" for n in outputs) or "none"
        raise UsageError(f"task `{job.name}` has {len(outputs)} outputs ({listed})",
                         help="choose one with --output NAME")
    return next(iter(outputs.values()))


def _case_result(job, relative: str):
    from hypermetric.results.collect import CaseResult
    from hypermetric.store.status import job_status

    status = _JOB_STATUS.get(job_status(job).label, "pending")
    from hypermetric.results.readers import read_job_meta

    meta = read_job_meta(os.path.join(job.workdir, "job.json"))
    return CaseResult(case=dict(job.full_case), status=status, path=os.path.join(job.workdir, relative), meta=meta)


def _print(table, axes: list[str], pivot: str | None, format: str | None, color: str) -> None:
    from hypermetric.results.arrow import pivot as pivot_table
    from hypermetric.results.arrow import table_to_text_rows

    if format is None:  # a pipe or a file is read by programs: CSV, not a box table cut to 80 columns
        format = "table" if sys.stdout.isatty() else "csv"

    if format in ("csv", "json"):
        import tempfile

        if pivot:
            table = _stacked(pivot_table(table, pivot, axes))

        from hypermetric.results.arrow import write_table

        with tempfile.TemporaryDirectory() as tmp:
            path = write_table(table, os.path.join(tmp, f"table.{format}"), format)
            sys.stdout.write(path.read_text())
        return
    if format == "parquet":
        raise UsageError("parquet output needs a file", help="add --to FILE.parquet")
    tables = pivot_table(table, pivot, axes) if pivot else [("", table)]
    from rich.table import Table

    from hypermetric.cli.console import make_console

    console = make_console(color)
    for title, part in tables:
        header, rows = table_to_text_rows(part)
        keys = [h for h in header if h in axes or h in ("status", "id")]
        if not _fits(header, rows, console.width):
            count = len(header) - len(keys)
            header, rows, keys = _long_form(header, rows, keys)
            sys.stderr.write(f"{count} fields do not fit the terminal, shown one "
                             "per row; choose fields with --columns or spread an axis with --pivot\n")
        view = Table(title=title or None, header_style="bold")
        for name in header:
            view.add_column(name, justify="left" if name in keys else "right")
        for row in rows:
            view.add_row(*row)
        console.print(view)


def _fits(header: list[str], rows: list[list[str]], width: int) -> bool:
    widths = [max([len(h), *(len(r[i]) for r in rows)]) + 3 for i, h in enumerate(header)]
    return sum(widths) + 1 <= width


def _long_form(header: list[str], rows: list[list[str]], keys: list[str]):
    """A table too wide for the terminal: one row per case and field."""
    index = {h: i for i, h in enumerate(header)}
    fields = [h for h in header if h not in keys]
    out = [[*(row[index[k]] for k in keys), name, row[index[name]]] for row in rows for name in fields]
    return [*keys, "field", "value"], out, [*keys, "field"]


def _stacked(parts):
    """Pivoted tables, one per metric, as one table for a program: a leading `metric` column says which."""
    import pyarrow as pa

    tables = [part.add_column(0, "metric", pa.array([title] * part.num_rows, pa.string()))
              for title, part in parts]
    return pa.concat_tables(tables, promote_options="permissive")
