"""`report`: one self-contained HTML file with the run summary, task graph, charts and results tables."""

from __future__ import annotations

import sys
from typing import Annotated, Optional

import typer

from hypermetric import api
from hypermetric.cli.options import Common, command
from hypermetric.cli.session import open_session

OutOpt = Annotated[str, typer.Option("-o", "--out", help="The HTML file to write.")]
OutputOpt = Annotated[Optional[str], typer.Option("--output", help="Which output of each task to read.")]
PivotOpt = Annotated[Optional[str], typer.Option(
    "--pivot", help="Spread this axis into columns, and chart over it.")]
ColumnsOpt = Annotated[Optional[str], typer.Option(
    "--columns", "-c", help="Comma-separated fields to show (glob patterns allowed).")]
TitleOpt = Annotated[Optional[str], typer.Option("--title", help="The page's title.")]


def register(app: typer.Typer) -> None:
    command(app, "report", "Write one offline HTML report: statuses, task graph, charts and results tables.")(
        cmd_report)


def cmd_report(c: Common, out: OutOpt = "report.html", output: OutputOpt = None, pivot: PivotOpt = None,
               columns: ColumnsOpt = None, title: TitleOpt = None) -> int:
    import os

    s = open_session(c)
    graph = s.plan()
    name = os.path.basename(s.file)
    options = api.ReportOptions(output=output, pivot=pivot, columns=columns, title=title or f"{name} report",
                                subtitle=f"{name} · {' '.join(s.targets)} · root {graph.root}")
    path = api.report(graph, out, options)
    sys.stderr.write(f"wrote {path}\n")
    return 0
