"""The programmatic API: the whole product for Python callers; every `hypermetric` command is a thin shell
over it (it parses options, calls one or two functions here, and prints).

    from hypermetric import api

    pipeline = api.load("p.hm", defines={"lr": "0.1"}, root="out")
    graph = api.plan(pipeline, ["t[K: *]"])
    report = api.run(graph, api.RunOptions(jobs=4))   # a RunReport; report.exit_code is an ExitCode
    table = api.results(pipeline, "t[K: *]")           # a pyarrow.Table, as `hypermetric results`
    api.invalidate(pipeline, ["t[K: a]"])               # and remove, touch, unlock

Options are typed values (`RunOptions`, keyword arguments), never environment variables. Errors a user can
fix raise `hypermetric.errors.HmError` subclasses, whose `exit_code` and `diagnostics` say what and where.
Nothing here imports Ray or pyarrow until a run or a table needs it, and `from hypermetric import api` itself
imports nothing more until a name is used, so that the command line starts fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hypermetric.api.files import collect_folder, collect_to_parquet, generate_batch, report, write_table
    from hypermetric.api.history import RunDiff, describe_job_id, diff, runs
    from hypermetric.api.loading import is_batch, load, plan, plan_with_history, select
    from hypermetric.api.maintenance import (
        Action,
        affected,
        apply,
        downstream_jobs,
        invalidate,
        locked,
        remove,
        statuses,
        target_jobs,
        touch,
        unlock,
    )
    from hypermetric.api.running import BACKENDS, RunOptions, backend_name, machines, run
    from hypermetric.api.tables import ResultTable, result_table, results, select_columns, statistics
    from hypermetric.execution.report import JobResult, RunReport
    from hypermetric.exitcode import ExitCode
    from hypermetric.plan.graph import JobGraph
    from hypermetric.plan.job import Job
    from hypermetric.report import ReportOptions
    from hypermetric.semantics.pipeline import Pipeline
    from hypermetric.store.history import RunInfo
    from hypermetric.store.status import JobStatus

# Where each public name lives; a name is imported from there when it is first used.
_HOMES = {
    "hypermetric.api.files": ("collect_folder", "collect_to_parquet", "generate_batch", "report", "write_table"),
    "hypermetric.api.history": ("RunDiff", "describe_job_id", "diff", "runs"),
    "hypermetric.api.loading": ("is_batch", "load", "plan", "plan_with_history", "select"),
    "hypermetric.api.maintenance": ("Action", "affected", "apply", "downstream_jobs", "invalidate", "locked",
                                    "remove", "statuses", "target_jobs", "touch", "unlock"),
    "hypermetric.api.running": ("BACKENDS", "RunOptions", "backend_name", "machines", "run"),
    "hypermetric.api.tables": ("ResultTable", "result_table", "results", "select_columns", "statistics"),
    "hypermetric.execution.report": ("JobResult", "RunReport"),
    "hypermetric.exitcode": ("ExitCode",),
    "hypermetric.plan.graph": ("JobGraph",),
    "hypermetric.plan.job": ("Job",),
    "hypermetric.report": ("ReportOptions",),
    "hypermetric.semantics.pipeline": ("Pipeline",),
    "hypermetric.store.history": ("RunInfo",),
    "hypermetric.store.status": ("JobStatus",),
}
_HOME = {name: module for module, names in _HOMES.items() for name in names}
__all__ = [
    "Action", "BACKENDS", "ExitCode", "Job", "JobGraph", "JobResult", "JobStatus", "Pipeline",
    "ReportOptions", "ResultTable", "RunDiff", "RunInfo", "RunOptions", "RunReport", "affected", "apply",
    "backend_name", "collect_folder", "collect_to_parquet", "describe_job_id", "diff", "downstream_jobs",
    "generate_batch", "invalidate", "is_batch", "load", "locked", "machines", "plan", "plan_with_history",
    "remove", "report", "result_table", "results", "run", "runs", "select", "select_columns", "statistics",
    "statuses", "target_jobs", "touch", "unlock", "write_table",
]


def __getattr__(name: str) -> Any:
    module = _HOME.get(name)
    if module is None:
        raise AttributeError(f"module 'hypermetric.api' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
