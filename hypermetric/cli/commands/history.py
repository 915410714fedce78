"""History commands: `runs` lists the recorded runs, `diff` says which jobs differ between two and why."""

from __future__ import annotations

import json
import sys
import time
from typing import Annotated

import typer

from hypermetric import api
from hypermetric.cli import render
from hypermetric.cli.options import Common, command
from hypermetric.cli.session import open_session
from hypermetric.errors import UsageError

DiffFormatOpt = Annotated[str, typer.Option("--format", help="text or json.")]


def register(app: typer.Typer) -> None:
    command(app, "runs", "List the recorded runs: time, targets, counts per status, duration.")(cmd_runs)
    command(app, "diff", "Show which jobs differ between two recorded runs (default: the last two), and why.")(
        cmd_diff)


def cmd_runs(c: Common) -> None:
    s = open_session(c)
    if s.targets:
        raise UsageError(f"`runs` takes no targets (got `{s.targets[0]}`)")
    runs = api.runs(s.pipeline)
    lines: list[tuple[str, str | None]] = [(render.HEADER, "header")]
    if not runs:
        lines.append((f"no runs recorded under {s.pipeline.root}", None))
    for index, run in enumerate(runs, 1):
        lines.append((f"{index:>3}  {_describe(run)}", None))
    render.write_lines(lines, c.color)


def _describe(run: api.RunInfo) -> str:
    summary = run.summary
    if summary is None:
        return f"{run.name}  {run.job_count} jobs  (no summary: interrupted, or recorded by an older version)"
    start = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(summary.get("start", 0)))
    duration = max(0.0, float(summary.get("end", 0)) - float(summary.get("start", 0)))
    counts = ", ".join(f"{n} {label}" for label, n in sorted((summary.get("counts") or {}).items()))
    targets = " ".join(api.describe_job_id(t) for t in summary.get("targets") or [])
    return f"{run.name}  {start}  {duration:.1f} s  {targets}  {counts}"


def cmd_diff(c: Common, format: DiffFormatOpt = "text") -> None:
    if format not in ("text", "json"):
        raise UsageError(f"unknown diff format `{format}`", help="use --format text or --format json")
    s = open_session(c)
    found = api.diff(s.pipeline, s.targets)
    if format == "json":
        data = {"a": found.a.name, "b": found.b.name,
                "jobs": [{"id": ch.job_id, "job": api.describe_job_id(ch.job_id), "change": ch.change,
                          "reasons": ch.reasons, "script_diff": ch.script_diff or None} for ch in found.changes]}
        sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
        return
    render.write_lines(_diff_lines(found), c.color)


_MARK = {"added": "+", "removed": "-", "changed": "~"}


def _diff_lines(found: api.RunDiff) -> list[tuple[str, str | None]]:
    lines: list[tuple[str, str | None]] = [(render.HEADER, "header"),
                                           (f"Comparing run {found.a.name} with {found.b.name}:", None)]
    for change in found.changes:
        lines.append((f"{_MARK[change.change]} {api.describe_job_id(change.job_id)}: {'; '.join(change.reasons)}",
                      None))
        lines += [(f"    {line}", None) for line in change.script_diff.splitlines()]
    n = len(found.changes)
    lines.append((f"{n} job{'s' if n != 1 else ''} differ{'s' if n == 1 else ''}" if n else "no job differs", None))
    return lines
