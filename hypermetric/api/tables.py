"""`results`: one Arrow table across the cases of a task tensor, and the statistics asked of it."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from hypermetric.api.loading import plan
from hypermetric.errors import UsageError
from hypermetric.plan.job import Job
from hypermetric.semantics.pipeline import Pipeline

if TYPE_CHECKING:
    import pyarrow as pa

    from hypermetric.plan.graph import JobGraph
    from hypermetric.results.collect import CaseResult
    from hypermetric.results.stats.request import StatsRequest, StatsResult
    from hypermetric.store.status import JobStatus


@dataclass(frozen=True)
class ResultTable:
    """A results table with what it was read from: `axes` are its axis columns in the task's order."""

    table: pa.Table
    axes: list[str]
    task: str


def results(pipeline: Pipeline, targets: str | Sequence[str], *, output: str | None = None,
            root: str | None = None, per_query: bool = False, meta: bool = False,
            columns: str | None = None) -> pa.Table:
    """One row per case of the targets (one task tensor, e.g. `evaluate[Dataset: *, Model: *]`): a column
    per axis, `status`, then the values read from output `output` (needed when the task has several).
    `per_query` keeps the per-query lines of `name id value` files; `meta` adds each job's duration, attempt
    and host; `columns` keeps only the comma-separated fields (glob patterns allowed). `root` overrides the
    output root, as `plan` does. Missing or failed cases are rows with a status, never dropped."""
    return result_table(pipeline, targets, output=output, root=root, per_query=per_query, meta=meta,
                        columns=columns).table


def result_table(pipeline: Pipeline, targets: str | Sequence[str], *, output: str | None = None,
                 root: str | None = None, per_query: bool = False, meta: bool = False,
                 columns: str | None = None) -> ResultTable:
    """As `results`, with the axis columns and the task named."""
    from hypermetric.results.assemble import collect_table

    graph = plan(pipeline, [targets] if isinstance(targets, str) else list(targets), root)
    jobs = [graph.jobs[i] for i in graph.targets]
    names = {job.name for job in jobs}
    if len(names) != 1:
        raise UsageError("`results` reads one task tensor at a time",
                         notes=[f"the targets name {', '.join(sorted(names)) or 'no task'}"])
    output_file = choose_output(jobs[0], output)
    axes = [axis for axis, _ in jobs[0].full_case]
    statuses = job_states(graph)
    table = collect_table([case_result(job, output_file, statuses[job.id][0].label) for job in jobs], axes,
                          per_query=per_query, with_meta=meta)
    if columns:
        table = select_columns(table, axes, columns)
    return ResultTable(table, axes, jobs[0].name)


def statistics(pipeline: Pipeline, results: ResultTable, request: StatsRequest) -> StatsResult:
    """The statistics `request` asks of a results table (`--agg`, `--ci`, `--significance`, `--compare`);
    a significance test's baseline defaults to each axis's default key."""
    from hypermetric.results.stats.request import compute

    axes = [pipeline.axis(name) for name in results.axes]
    defaults = {axis.name: axis.default for axis in axes if axis is not None}
    return compute(results.table, results.axes, request, default_keys=defaults)


def select_columns(table: pa.Table, axes: list[str], patterns: str) -> pa.Table:
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


def choose_output(job: Job, name: str | None) -> str:
    """The path (relative to the job directory) of output `name`, or of the job's only output."""
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


def job_states(graph: JobGraph) -> dict[str, tuple[JobStatus, str | None]]:
    """Each job's status as `dry-run` shows it, OUTDATED (with its reason) included: a table read from
    outputs that no longer match the pipeline says so on every row concerned."""
    from hypermetric.store.staleness import Staleness

    return Staleness(graph).states()


def case_result(job: Job, relative: str, status_label: str | None = None) -> CaseResult:
    """Where one case's value is read from, with the job's status and `job.json` metadata."""
    from hypermetric.results.collect import CaseResult, case_status
    from hypermetric.results.readers import read_job_meta
    from hypermetric.store.status import job_status

    status = case_status(status_label if status_label is not None else job_status(job).label)
    meta = read_job_meta(os.path.join(job.workdir, "job.json"))
    return CaseResult(case=dict(job.full_case), status=status, path=os.path.join(job.workdir, relative),
                      meta=meta)
