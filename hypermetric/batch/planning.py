"""Targets of a batch -> the same `JobGraph` of `Job`s the planner makes for a pipeline.

No target means every job of the batch. A target is a job's name or a task reference with indices
(`iris[tol: *]`); cases the batch has no job for are left out, and a target that selects no job at all is
an error.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable

from hypermetric.batch.frontend import BatchPipeline, Entry, key_text
from hypermetric.errors import TargetError, UsageError
from hypermetric.model.case import job_id
from hypermetric.plan.graph import JobGraph
from hypermetric.plan.job import Job

PARAMS_VAR = "HYPERMETRIC_JOB_PARAMS"
WORKING_DIR_VAR = "HYPERMETRIC_WORKING_DIR"


def plan_batch(pipeline: BatchPipeline, target_texts: Iterable[str], root: str | None = None) -> JobGraph:
    """The jobs the targets select, in the batch file's order."""
    root = root or pipeline.root
    chosen = _select(pipeline, list(target_texts))
    jobs = {}
    for entry in chosen:
        job = _job(pipeline, entry, root)
        jobs[job.id] = job
    return JobGraph(jobs, targets=list(jobs), root=root)


def _select(pipeline: BatchPipeline, texts: list[str]) -> list[Entry]:
    if not texts:
        return list(pipeline.entries)
    by_name = {entry.name: entry for entry in pipeline.entries}
    by_case = {entry.pairs: entry for entry in pipeline.entries}
    wanted: set[str] = set()
    for text in texts:
        if text in by_name and text not in pipeline.tasks:
            wanted.add(text)
            continue
        found = [by_case[pairs].name for pairs in _cases(pipeline, text) if pairs in by_case]
        if not found:
            raise TargetError(f"no job of batch `{pipeline.dir_name}` matches `{text}`",
                              help=f"name a job ({', '.join(list(by_name)[:5])}) or index the batch's params, "
                                   f"e.g. `{pipeline.task_name}[{pipeline.axes[0].name}: *]`"
                              if pipeline.axes else f"name a job: {', '.join(list(by_name)[:5])}")
        wanted.update(found)
    return [entry for entry in pipeline.entries if entry.name in wanted]


def _cases(pipeline: BatchPipeline, text: str):
    from hypermetric.plan.targets import resolve_targets
    from hypermetric.syntax import parse_target

    for selection in resolve_targets(pipeline, [parse_target(text)]):
        yield from selection.cases


def _job(pipeline: BatchPipeline, entry: Entry, root: str) -> Job:
    config, spec = pipeline.config, entry.job
    assert config is not None
    relpath = f"{pipeline.dir_name}/{entry.name}"
    workdir = f"{root}/{relpath}"
    variables = dict(config.environments)
    variables.update((name, key_text(value)) for name, value in spec.params.items())
    variables[PARAMS_VAR] = json.dumps(dict(spec.params), ensure_ascii=False, sort_keys=True)
    script = spec.command if spec.command.endswith("\n") else spec.command + "\n"
    if spec.working_dir is not None:
        directory = os.path.join(pipeline.cwd, os.path.expanduser(spec.working_dir))
        variables[WORKING_DIR_VAR] = os.path.normpath(directory)
        script = f'cd "${WORKING_DIR_VAR}"\n{script}'
    for name, path in spec.outputs:
        if name in spec.params:
            raise UsageError(f"job `{entry.name}`: `{name}` is both a param and an output",
                             help="rename the output")
        variables[name] = f"{workdir}/{path}"
    return Job(id=job_id(pipeline.task_name, entry.pairs), name=pipeline.task_name, case=entry.pairs,
               full_case=entry.full, relpath=relpath, workdir=workdir, script=script,
               variables=tuple(variables.items()), outputs=spec.outputs)

