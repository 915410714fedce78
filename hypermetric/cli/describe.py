"""`describe`: one JSON object per target job, fields in HyperMake's order and with its values."""

from __future__ import annotations

from hypermetric.store.staleness import Staleness
from hypermetric.store.status import JobStatus, failure_reason

_STATUS = {JobStatus.COMPLETE: "success", JobStatus.SUCCESS: "success", JobStatus.FAILED: "failure",
           JobStatus.OUTDATED: "outdated"}


def describe_jobs(graph) -> list[dict]:
    states = Staleness(graph).states()
    return [describe_job(graph.jobs[i], *states[i]) for i in graph.targets]


def describe_job(job, status: JobStatus, reason: str | None = None) -> dict:
    """HyperMake's fields, plus `reason`: why an OUTDATED job must re-run, or why a FAILED one failed."""
    failure = failure_reason(job) if status is JobStatus.FAILED else None
    variables = dict(job.variables)
    inputs = _inputs(job, variables)
    outputs = {name: variables.get(name) for name, _ in job.outputs}
    decorator_args = {name for layer in job.decorators for name, _ in layer.variables}
    for name, value in variables.items():
        if name not in outputs and name not in inputs and name not in decorator_args:
            inputs[name] = value
    return {
        "id": job.id,
        "name": job.name,
        "args": dict(job.full_case),
        "status": _STATUS.get(status, "pending"),
        "failureReason": failure,
        "inputs": inputs,
        "outputs": outputs,
        "path": job.workdir,
        "dependencies": list(job.deps),
        "reason": reason or failure,
    }


def _inputs(job, variables: dict[str, str]) -> dict[str, str | None]:
    """The task's inputs as HyperMake shows them: a reduction as its upstream paths joined by spaces, and
    no decorator argument (those belong to the decorator, not the task)."""
    decorator_args = {name for layer in job.decorators for name, _ in layer.variables}
    inputs: dict[str, str | None] = {}
    for link in job.inputs:
        if link.name in decorator_args:
            continue
        if link.is_reduction:
            inputs[link.name] = " ".join(entry.target for entry in link.entries)
        else:
            inputs[link.name] = variables.get(link.name, link.target)
    return inputs
