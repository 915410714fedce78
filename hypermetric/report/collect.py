"""The results a report shows: for each task the targets name, one output of every targeted case read into
one Arrow table (as `hypermetric results` reads it), with the fields chosen by `--columns` globs.

A task whose output cannot be chosen (several outputs and no `--output`, or none) gets a note instead of a
table: a report about a whole pipeline should not fail because one task has two outputs.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING, Any

from hypermetric.errors import UsageError
from hypermetric.results.readers import read_job_meta
from hypermetric.store.layout import JOB_JSON
from hypermetric.suggest import help_did_you_mean

if TYPE_CHECKING:
    from hypermetric.plan.graph import JobGraph
    from hypermetric.plan.job import Job
    from hypermetric.report.state import ReportState

KEPT = ("status", "error")


@dataclass
class TaskResults:
    """The results of one task: its axes, the output read, and the table (None, with a note, when none)."""

    task: str
    axes: list[str]
    output: str | None = None
    table: Any = None
    note: str | None = None


def collect_results(graph: JobGraph, state: ReportState, output: str | None = None,
                    columns: str | None = None) -> list[TaskResults]:
    """One `TaskResults` per task among the targets, in the order the targets name them."""
    statuses = {job.id: job.status for job in state.jobs}
    by_task: dict[str, list[Job]] = {}
    for job_id in graph.targets:
        job = graph.jobs[job_id]
        by_task.setdefault(job.name, []).append(job)
    out = [_task_results(name, jobs, statuses, output) for name, jobs in by_task.items()]
    if output is not None and all(r.table is None for r in out):
        names = sorted({n for jobs in by_task.values() for n, _ in jobs[0].outputs})
        listed = ", ".join(f"`{n}`" for n in names) or "none"
        raise UsageError(f"no targeted task has an output `{output}`",
                         help=help_did_you_mean(output, names) or f"the targeted tasks' outputs: {listed}")
    if columns:
        _select_columns(out, columns)
    return out


def _task_results(name: str, jobs: list[Job], statuses: dict[str, str], output: str | None) -> TaskResults:
    axes = [axis for axis, _ in jobs[0].full_case]
    outputs = dict(jobs[0].outputs)
    chosen = output if output in outputs else None
    if chosen is None and output is None and len(outputs) == 1:
        chosen = next(iter(outputs))
    if chosen is None:
        listed = ", ".join(f"`{n}`" for n in outputs) or "none"
        why = f"has no output `{output}`" if output else f"has {len(outputs)} outputs ({listed})"
        return TaskResults(name, axes, note=f"task `{name}` {why}; choose one with --output NAME")
    from hypermetric.results.assemble import collect_table

    cases = [_case(job, outputs[chosen], statuses.get(job.id, "PENDING")) for job in jobs]
    return TaskResults(name, axes, chosen, collect_table(cases, axes))


def _case(job: Job, relative: str, status: str):
    from hypermetric.results.collect import CaseResult, case_status

    # an OUTDATED job still has the outputs it made last time: they are read, and the row says OUTDATED
    meta = read_job_meta(os.path.join(job.workdir, JOB_JSON))
    return CaseResult(case=dict(job.full_case), status=case_status(status),
                      path=os.path.join(job.workdir, relative), meta=meta)


def _select_columns(results: list[TaskResults], patterns: str) -> None:
    """Keep the axis columns, `status`, `error`, the example id, and the fields matching any of the comma-separated globs."""
    wanted = [p.strip() for p in patterns.split(",") if p.strip()]
    matched: set[str] = set()
    every: list[str] = []
    for item in results:
        if item.table is None:
            continue
        from hypermetric.results.stats.perquery import id_column

        kept = {*item.axes, *KEPT, id_column(item.table)}   # the example id keeps per-example rows apart
        fields = [c for c in item.table.column_names if c not in kept]
        every += fields
        keep = {c for c in fields if any(fnmatchcase(c, p) for p in wanted)}
        matched |= {p for p in wanted if any(fnmatchcase(c, p) for c in fields)}
        item.table = item.table.select([c for c in item.table.column_names if c not in fields or c in keep])
    unmatched = [p for p in wanted if p not in matched]
    if unmatched:
        raise UsageError(f"no field matches `{unmatched[0]}`", help=help_did_you_mean(unmatched[0], every))

