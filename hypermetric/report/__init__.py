"""`hypermetric report`: one self-contained HTML file about the jobs a set of targets implies.

It shows the run summary (jobs per status, durations, failures with their reason and stderr tail, recorded
runs), the task graph as SVG coloured by status, charts of each targeted task's metrics over an axis (with
bootstrap intervals when there are per-example rows), and the results tables (pivoted on request). All of it is
read from disk, so a report can be made during a run, after it, or on another machine that sees the root.

This package sits above `results` and `store` and below `api`; pyarrow, altair and vl-convert are imported
only inside the functions that need them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from hypermetric.errors import StoreError, UsageError

if TYPE_CHECKING:
    from hypermetric.plan.graph import JobGraph


@dataclass(kw_only=True)
class ReportOptions:
    """What to put in a report: the output each task is read from, the axis to pivot and chart over, the
    fields (comma-separated globs), and the page's title."""

    output: str | None = None
    pivot: str | None = None
    columns: str | None = None
    title: str = "hypermetric report"
    subtitle: str = ""


def build_report(graph: JobGraph, options: ReportOptions) -> str:
    """The report's HTML for the jobs of `graph` (its targets' results, every job's status)."""
    from hypermetric.report import document as doc
    from hypermetric.report import summary
    from hypermetric.report.collect import collect_results
    from hypermetric.report.graph_svg import render_graph
    from hypermetric.report.state import read_state

    state = read_state(graph)
    results = collect_results(graph, state, options.output, options.columns)
    _check_pivot(options.pivot, results)
    counts = {task: _counts(jobs) for task, jobs in state.by_task().items()}
    sections = [
        doc.section("Summary", "summary", [summary.render_counts(state), summary.render_durations(state),
                                           "<h3>Failures</h3>", summary.render_failures(state),
                                           summary.render_outdated(state)]),
        doc.section("Task graph", "graph", ['<div class="graph-wrap">',
                                            render_graph(state.tasks, state.edges, counts), "</div>"]),
        doc.section("Charts", "charts", [_charts(r, options.pivot) for r in results if r.table is not None]
                    or ['<p class="note">No results to chart.</p>']),
        doc.section("Results", "results", _tables(results, options.pivot)),
        doc.section("Runs", "runs", [summary.render_runs(state)]),
    ]
    return doc.page(options.title, options.subtitle, sections)


def write_report(graph: JobGraph, path: str, options: ReportOptions) -> str:
    """Write the report to `path` (atomically: a reader never sees half a file); returns the path."""
    text = build_report(graph, options)
    target = os.path.abspath(path)
    tmp = os.path.join(os.path.dirname(target), f".{os.path.basename(target)}.tmp-{os.getpid()}")
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, target)
    except OSError as e:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise StoreError(f"cannot write `{path}`: {e.strerror or e}",
                         help="name a file in an existing directory you can write to, with -o FILE.html") from None
    return target


def _counts(jobs) -> dict[str, int]:
    out: dict[str, int] = {}
    for job in jobs:
        out[job.status] = out.get(job.status, 0) + 1
    return out


def _check_pivot(axis: str | None, results) -> None:
    if axis is None:
        return
    axes = {a for r in results if r.table is not None for a in r.axes}
    if axis not in axes:
        from hypermetric.suggest import help_did_you_mean

        raise UsageError(f"no targeted task has an axis `{axis}` to pivot on",
                         help=help_did_you_mean(axis, sorted(axes)) or "name one of the targets' axes")


def _charts(result, axis: str | None) -> str:
    from hypermetric.report.charts import chart_results
    from hypermetric.report.document import chart_boxes

    found = chart_results(result, axis)
    return chart_boxes(result.task, found.axis, [(c.metric, c.svg, c.with_ci) for c in found.charts], found.note)


def _tables(results, pivot: str | None) -> list[str]:
    from hypermetric.report.tables import render_results

    return [render_results(r, pivot) for r in results] or ['<p class="note">No targeted task.</p>']
