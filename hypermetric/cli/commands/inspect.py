"""Inspection commands: `list`, `dry-run`, `describe`, `get-path`, `graph` (they never run jobs or import Ray)."""

from __future__ import annotations

import sys
from typing import Annotated, Literal

from hypermetric.cli import params as typer  # typer's way of declaring options, without importing typer
from hypermetric.cli import render
from hypermetric.cli.options import Common, command
from hypermetric.cli.session import open_session
from hypermetric.errors import UsageError
from hypermetric.process_wide import collector_paused

FormatOpt = Annotated[Literal["dot", "mermaid"], typer.Option("--format", help="dot or mermaid.")]
OutputFmtOpt = Annotated[Literal["json"], typer.Option("-o", "--output", help="Output format: json.")]
JobsOpt = Annotated[bool, typer.Option("--jobs", help="Graph of jobs instead of task tensors.")]


def register(app: typer.Typer) -> None:
    command(app, "list", "Show the axes and the DAG of task tensors.")(cmd_list)
    command(app, "dry-run", "Show the jobs the targets imply, with their status.")(cmd_dry_run)
    command(app, "describe", "Describe the targets' jobs as JSON.")(cmd_describe)
    command(app, "get-path", "Print the job directories of the targets.")(cmd_get_path)
    command(app, "graph", "Print the task (or job) DAG as Graphviz dot or Mermaid.")(cmd_graph)


def cmd_list(c: Common) -> None:
    s = open_session(c)
    if s.targets:
        raise UsageError(f"`list` takes no targets (got `{s.targets[0]}`)")
    render.write_lines(render.list_lines(s.file, s.pipeline), c.color)


def cmd_dry_run(c: Common) -> None:
    s = open_session(c)
    graph = s.plan()
    with collector_paused():  # a line and a status per job, a million of them, and no cycle among them
        render.write_lines(render.dry_run_lines(graph), c.color)


def cmd_describe(c: Common, output: OutputFmtOpt = "json") -> None:
    s = open_session(c)
    graph = s.plan()
    import json  # only `describe` writes JSON

    from hypermetric.cli.describe import describe_jobs

    sys.stdout.write(json.dumps(describe_jobs(graph), indent=2, ensure_ascii=False) + "\n")


def cmd_get_path(c: Common) -> None:
    s = open_session(c)
    graph = s.plan()
    sys.stdout.write("".join(graph.jobs[i].workdir + "\n" for i in graph.targets))


def cmd_graph(c: Common, format: FormatOpt = "dot", jobs: JobsOpt = False) -> None:
    s = open_session(c)
    if jobs or s.targets:
        graph = s.plan()
        nodes = {i: graph.jobs[i].display_id for i in graph.order()}
        edges = [(d, i) for i in graph.order() for d in graph.jobs[i].deps]
    else:
        tasks = render.task_table(s.pipeline)
        nodes = {name: label for name, label, _ in tasks}
        edges = [(up, name) for name, _, ups in tasks for up in ups]
    text = render.dot(nodes, edges) if format == "dot" else render.mermaid(nodes, edges)
    sys.stdout.write(text)
