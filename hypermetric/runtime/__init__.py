"""The Python evaluation runtime: `@runtime` shards a function over a dataset's rows on Ray, `@component`
captures calls for `Metric`s scored by stateful evaluator actors, and every run ends in one Arrow table.

The subpackages follow a run's flow: `data` (datasets, sharding) → `drive` (the driver, its worker and
evaluator pools) → `scoring` (metrics, evaluators) → `parts` (Parquet parts, reconciliation) → `result` (the
final table's columns, reductions, summary); `decorators`, `options` and `session` are the front door and the
run from start to finish.

Nothing here imports Ray or pyarrow until a run needs them. The package and the decorator share the name
`runtime`, so `from hypermetric import runtime` may give either: the package is made callable as the
decorator, and `@runtime(...)` works whichever one a user gets.
"""

from __future__ import annotations

import sys
import types
from typing import Any

from hypermetric.runtime.data.dataset import Dataset, FieldRef
from hypermetric.runtime.decorators import Component, Runtime, component, runtime
from hypermetric.runtime.drive.driver import Progress
from hypermetric.runtime.job_params import JobParams, NotInJobError, get_job_params, job_params
from hypermetric.runtime.options import RuntimeOptions
from hypermetric.runtime.result.summary import MetricSummary, RunResult, format_summary
from hypermetric.runtime.scoring.metric import Metric, MetricSpec

__all__ = [
    "Component",
    "Dataset",
    "FieldRef",
    "JobParams",
    "Metric",
    "MetricSpec",
    "MetricSummary",
    "NotInJobError",
    "Progress",
    "RunResult",
    "Runtime",
    "RuntimeOptions",
    "component",
    "format_summary",
    "get_job_params",
    "job_params",
    "runtime",
]


class _CallableModule(types.ModuleType):
    """This package under the name `runtime` is also the `@runtime` decorator (see the module docstring)."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return runtime(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
