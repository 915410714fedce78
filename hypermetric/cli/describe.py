"""`describe`: one JSON object per target job, fields in HyperMake's order (LANGUAGE.md §6.2)."""

from __future__ import annotations

from hypermetric.store.status import JobStatus, failure_reason, job_status

_STATUS = {JobStatus.COMPLETE: "success", JobStatus.SUCCESS: "success", JobStatus.FAILED: "failure"}


def describe_jobs(graph) -> list[dict]:
    return [describe_job(graph.jobs[i]) for i in graph.targets]


def describe_job(job) -> dict:
    status = job_status(job)
    variables = dict(job.variables)
    inputs = {link.name: variables.get(link.name, link.target) for link in job.inputs}
    outputs = {name: variables.get(name) for name, _ in job.outputs}
    for name, value in variables.items():
        if name not in outputs and name not in inputs:
            inputs[name] = value
    return {
        "id": job.id,
        "name": job.name,
        "args": dict(job.full_case),
        "status": _STATUS.get(status, "pending"),
        "failureReason": failure_reason(job) if status is JobStatus.FAILED else None,
        "inputs": inputs,
        "outputs": outputs,
        "path": job.workdir,
        "dependencies": list(job.deps),
    }
