"""A Hyperctl batch as a pipeline: one task named after the batch, whose axes are the jobs' params.

Each job of the batch is one case of that task, so planning, caching, `dry-run`, `describe`, `invalidate`,
`remove` and `results` treat a batch exactly like a pipeline. A param's keys are its values as text (JSON text
for anything but a string), in the order the jobs first use them; the first is the default. A job without a
param takes the key `null`. When two jobs have the same params, an axis `job` (keyed by job name) tells
them apart. Job directories keep Hyperctl's layout, `<root>/<batch name>/<job name>`; a job without a name
is named after its params, so that a re-run finds it done.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from hypermetric.batch.config import BatchConfig, BatchJob
from hypermetric.errors import UsageError
from hypermetric.model.axis import Axis
from hypermetric.model.case import Pairs, canonical, dirname
from hypermetric.semantics.model import Pipeline, TaskInfo

MISSING = "null"
JOB_AXIS = "job"
ROOT_ENV = "HYPERCTL_BATCHES_DATA_DIR"


@dataclass(frozen=True, slots=True)
class Entry:
    """One job of the batch with its case: `pairs` canonical, `full` every axis in the task's axis order."""

    job: BatchJob
    name: str
    pairs: Pairs
    full: Pairs


@dataclass(frozen=True, eq=False)
class BatchPipeline(Pipeline):
    """A `Pipeline` made from a batch file; `entries` are its jobs in the file's order."""

    config: BatchConfig | None = None
    entries: tuple[Entry, ...] = field(default=())
    dir_name: str = ""

    @property
    def task_name(self) -> str:
        return next(iter(self.tasks))


def key_text(value: Any) -> str:
    """A param value as an axis key: a string itself, anything else as compact JSON (`1`, `0.5`, `true`)."""
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def batch_pipeline(config: BatchConfig, cwd: str) -> BatchPipeline:
    """The pipeline of a batch; the output root is `batches_data_dir`, else `$HYPERCTL_BATCHES_DATA_DIR`, else
    `out` (relative ones from the invocation directory)."""
    _check_dir_name(config.name, "the batch name")
    axes = _axes(config.jobs)
    if _ambiguous(config.jobs, axes):
        if JOB_AXIS in axes:
            raise UsageError("two jobs have the same params, and a param named `job` keeps hypermetric from "
                             "telling them apart by name", help="make each job's params differ")
        names = [job.name for job in config.jobs]
        if None in names:
            raise UsageError("two jobs have the same params; name every job to tell them apart",
                             help='add "name" to each job, or make their params differ')
        axes[JOB_AXIS] = _unique(names)  # type: ignore[arg-type]  # no None left: checked just above
    axis_objects = tuple(Axis(name, keys) for name, keys in axes.items())
    defaults = {a.name: a.default for a in axis_objects}
    order = tuple(sorted(axes))
    entries = tuple(_entry(job, order, defaults) for job in config.jobs)
    _check_unique_dirs(entries)
    task = re.sub(r"\W", "_", config.name)
    task = f"_{task}" if task[0].isdigit() else task
    root = config.data_dir or os.environ.get(ROOT_ENV) or "out"
    root = os.path.normpath(os.path.join(cwd, os.path.expanduser(root)))
    return BatchPipeline(path=config.path, cwd=cwd, root=root, axes=axis_objects,
                         tasks={task: TaskInfo(task, order, ())}, plans={}, config=config, entries=entries,
                         dir_name=config.name)


def _axes(jobs: tuple[BatchJob, ...]) -> dict[str, tuple[str, ...]]:
    keys: dict[str, list[str]] = {}
    for job in jobs:
        for name, value in job.params.items():
            found = keys.setdefault(name, [])
            if key_text(value) not in found:
                found.append(key_text(value))
    for name, found in keys.items():
        if any(name not in job.params for job in jobs) and MISSING not in found:
            found.append(MISSING)
    return {name: tuple(found) for name, found in keys.items()}


def _params_key(job: BatchJob, axes: Mapping[str, tuple[str, ...]]) -> tuple[str, ...]:
    return tuple(key_text(job.params[a]) if a in job.params else MISSING for a in sorted(axes))


def _ambiguous(jobs: tuple[BatchJob, ...], axes: Mapping[str, tuple[str, ...]]) -> bool:
    seen = {_params_key(job, axes) for job in jobs}
    return len(seen) != len(jobs)


def _unique(names: list[str]) -> tuple[str, ...]:
    dup = next((n for n in names if names.count(n) > 1), None)
    if dup is not None:
        raise UsageError(f"two jobs are named `{dup}`", help="job names must be unique within a batch")
    return tuple(names)


def _entry(job: BatchJob, order: tuple[str, ...], defaults: Mapping[str, str]) -> Entry:
    case = {a: key_text(job.params[a]) if a in job.params else MISSING for a in order if a != JOB_AXIS}
    if JOB_AXIS in defaults and JOB_AXIS not in job.params:
        case[JOB_AXIS] = job.name or ""
    pairs = canonical(case, defaults)
    name = job.name if job.name is not None else dirname(pairs)
    _check_dir_name(name, "a job name")
    return Entry(job, name, pairs, tuple((a, case[a]) for a in order))


def _check_dir_name(name: str, what: str) -> None:
    if "/" in name or "\0" in name or name in (".", "..") or len(name.encode()) > 255:
        raise UsageError(f"{what} `{name}` cannot be a directory name",
                         help="use a name without `/`, not `.` or `..`, at most 255 bytes")


def _check_unique_dirs(entries: tuple[Entry, ...]) -> None:
    seen: set[str] = set()
    for entry in entries:
        if entry.name in seen:
            raise UsageError(f"two jobs would share the directory `{entry.name}`",
                             help="job names must be unique within a batch (a job without a name is named "
                                  "after its params)")
        seen.add(entry.name)
