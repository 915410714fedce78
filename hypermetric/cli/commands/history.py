"""History commands: `runs` lists the recorded runs, `diff` says which jobs differ between two and why."""

from __future__ import annotations

import json
import sys
import time
from typing import Annotated

import typer

from hypermetric.cli import render
from hypermetric.cli.options import Common, command
from hypermetric.cli.session import Session, open_session
from hypermetric.errors import UsageError

DiffFormatOpt = Annotated[str, typer.Option("--format", help="text or json.")]


def register(app: typer.Typer) -> None:
    command(app, "runs", "List the recorded runs: time, targets, counts per status, duration.")(cmd_runs)
    command(app, "diff", "Show which jobs differ between two recorded runs (default: the last two), and why.")(
        cmd_diff)


def _root(s: Session) -> str:
    import os

    return os.path.normpath(os.path.join(s.pipeline.cwd, s.common.root)) if s.common.root else s.pipeline.root


def cmd_runs(c: Common) -> None:
    from hypermetric.store.history import list_runs

    s = open_session(c)
    if s.targets:
        raise UsageError(f"`runs` takes no targets (got `{s.targets[0]}`)")
    runs = list_runs(_root(s))
    lines: list[tuple[str, str | None]] = [(render.HEADER, "header")]
    if not runs:
        lines.append((f"no runs recorded under {_root(s)}", None))
    for index, run in enumerate(runs, 1):
        lines.append((f"{index:>3}  {_describe(run)}", None))
    render.write_lines(lines, c.color)


def _describe(run) -> str:
    summary = run.summary
    if summary is None:
        return f"{run.name}  {run.job_count} jobs  (no summary: interrupted, or recorded by an older version)"
    start = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(summary.get("start", 0)))
    duration = max(0.0, float(summary.get("end", 0)) - float(summary.get("start", 0)))
    counts = ", ".join(f"{n} {label}" for label, n in sorted((summary.get("counts") or {}).items()))
    targets = " ".join(_display(t) for t in summary.get("targets") or [])
    return f"{run.name}  {start}  {duration:.1f} s  {targets}  {counts}"


def _display(job_id: str) -> str:
    """`o/t?A=x` -> `o.t[A: x]`."""
    from hypermetric.store.runs import parse_job_id

    try:
        name, case = parse_job_id(job_id)
    except ValueError:
        return job_id
    return f"{name}[{', '.join(f'{a}: {k}' for a, k in case.items())}]" if case else name


def cmd_diff(c: Common, format: DiffFormatOpt = "text") -> None:
    from hypermetric.store.history import diff_runs, list_runs

    if format not in ("text", "json"):
        raise UsageError(f"unknown diff format `{format}`", help="use --format text or --format json")
    s = open_session(c)
    root = _root(s)
    runs = list_runs(root)
    a, b = _pick(runs, s.targets)
    changes = diff_runs(root, [r for r in runs if r.summary is not None], a, b)
    if format == "json":
        data = {"a": a.name, "b": b.name,
                "jobs": [{"id": ch.job_id, "job": _display(ch.job_id), "change": ch.change, "reasons": ch.reasons,
                          "script_diff": ch.script_diff or None} for ch in changes]}
        sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
        return
    render.write_lines(_diff_lines(a, b, changes), c.color)


_MARK = {"added": "+", "removed": "-", "changed": "~"}


def _diff_lines(a, b, changes) -> list[tuple[str, str | None]]:
    lines: list[tuple[str, str | None]] = [(render.HEADER, "header"), (f"Comparing run {a.name} with {b.name}:", None)]
    for change in changes:
        lines.append((f"{_MARK[change.change]} {_display(change.job_id)}: {'; '.join(change.reasons)}", None))
        lines += [(f"    {line}", None) for line in change.script_diff.splitlines()]
    n = len(changes)
    lines.append((f"{n} job{'s' if n != 1 else ''} differ{'s' if n == 1 else ''}" if n else "no job differs", None))
    return lines


def _pick(runs, names: list[str]):
    """Runs A and B: named (a folder name, or a number as `runs` lists them, negative from the end), or the
    last two."""
    if len(names) > 2:
        raise UsageError("`diff` compares two runs", help="hypermetric diff FILE [RUN_A [RUN_B]]")
    complete = [r for r in runs if r.summary is not None]
    if not names:
        if len(complete) < 2:
            raise UsageError(f"`diff` needs two recorded runs, and there {'is' if len(complete) == 1 else 'are'} "
                             f"{len(complete)}", help="`hypermetric runs FILE` lists them; each `run` records one")
        return complete[-2], complete[-1]
    chosen = [_find(runs, name) for name in names]
    if len(chosen) == 1:
        later = [r for r in complete if r.name > chosen[0].name]
        if not later:
            raise UsageError(f"no recorded run after {chosen[0].name}", help="name both runs: diff FILE A B")
        chosen.append(later[-1])
    for run in chosen:
        if run.summary is None:
            raise UsageError(f"run {run.name} did not record its jobs' signatures",
                             help="it was interrupted, or made by an older version; pick another run")
    return chosen[0], chosen[1]


def _find(runs, name: str):
    by_name = {r.name: r for r in runs}
    if name in by_name:
        return by_name[name]
    try:
        index = int(name)
    except ValueError:
        index = None
    if index is not None and runs and -len(runs) <= index <= len(runs) and index != 0:
        return runs[index - 1] if index > 0 else runs[index]
    from hypermetric.suggest import help_did_you_mean

    raise UsageError(f"no recorded run `{name}`",
                     help=help_did_you_mean(name, list(by_name)) or "`hypermetric runs FILE` lists the runs")
