"""Loading a pipeline file, and planning the jobs that command-line targets imply."""

from __future__ import annotations

import dataclasses
import os
import sys
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from hypermetric.semantics.pipeline import Pipeline

if TYPE_CHECKING:  # the planner is imported when something is planned: `list` only loads
    from hypermetric.model.case import Pairs
    from hypermetric.plan.graph import JobGraph
    from hypermetric.plan.targets import Selection


def load(path: str, *, includes: Iterable[str] = (), defines: Mapping[str, str] | None = None,
         cwd: str | None = None, root: str | None = None, cache: bool = True) -> Pipeline:
    """Parse `path` and everything it imports, check it, and return the `Pipeline`.

    `includes` are `-I` directories; `defines` are `-D name=value` overrides: each name must be a value the
    pipeline defines (or a built-in setting such as `local.root`), each value a HyperMake expression such as
    `{Model: a b}` or `$x` (other text is a plain string); `cwd` is the invocation directory (relative paths,
    the output root and inline commands use it); `root` (`--root`) replaces the output root `local.root`, a
    relative one taken from `cwd`. A `.json`, `.yml` or `.yaml` file is a Hyperctl batch. With `cache`, a
    pipeline whose files are all unchanged since an earlier load comes from the user's cache directory
    instead of being parsed again (see `hypermetric.semantics.cache`)."""
    cwd = os.path.abspath(cwd or os.getcwd())
    if path.lower().endswith((".json", ".yml", ".yaml")):
        pipeline = _load_batch(path, defines, cwd)
    else:
        pipeline = _load_hm(path, includes, dict(defines or {}), cwd, cache)
    if root:
        pipeline = dataclasses.replace(pipeline, root=os.path.normpath(os.path.join(cwd, root)))
    return pipeline


def _load_hm(path: str, includes: Iterable[str], defines: dict[str, str], cwd: str, cache: bool) -> Pipeline:
    from hypermetric.semantics.cache import HashingParser, PipelineCache
    from hypermetric.semantics.loader import Loader

    parser = HashingParser()
    loader = Loader(includes=includes, cwd=cwd, parse=parser)
    store = PipelineCache.for_user() if cache else None
    main = os.path.normpath(os.path.join(cwd, path))
    key = store.key(main, loader, defines) if store else ""
    found = store.get(key, loader) if store else None
    if found is not None:
        return found
    from hypermetric.plan.targets import check_plans
    from hypermetric.semantics.analyzer import analyze

    program = loader.load(path)
    pipeline = analyze(program, defines=defines, cwd=cwd)
    check_plans(pipeline)
    if store:
        store.put(key, program, parser.hashes, pipeline, defines)
    return pipeline


def select(pipeline: Pipeline, target_texts: Iterable[str]) -> list[Selection]:
    """Parse and expand command-line targets (`t`, `t[A: x y, B: *]`, plan names)."""
    from hypermetric.plan.targets import resolve_targets
    from hypermetric.syntax import parse_target

    return resolve_targets(pipeline, [parse_target(text) for text in target_texts])


def plan(pipeline: Pipeline, target_texts: Iterable[str], root_override: str | None = None) -> JobGraph:
    """The job graph of the targets and everything upstream of them. `root_override` (`--root`)
    replaces `local.root`; a relative one is taken from the invocation directory."""
    from hypermetric.plan.planner import plan_jobs

    if is_batch(pipeline):
        from hypermetric.batch import BatchPipeline
        from hypermetric.batch.planning import plan_batch

        assert isinstance(pipeline, BatchPipeline)
        return plan_batch(pipeline, target_texts, _root(pipeline, root_override))
    return plan_jobs(pipeline, select(pipeline, target_texts), _root(pipeline, root_override))


def plan_with_history(pipeline: Pipeline, target_texts: Iterable[str],
                      root_override: str | None = None) -> JobGraph:
    """As `plan`, plus every job recorded under `<root>/.runs` that is still defined, so that `invalidate`
    reaches the recorded jobs downstream of the targets. Only the targets are `targets`."""
    from hypermetric.plan.planner import plan_jobs
    from hypermetric.plan.targets import Selection
    from hypermetric.store.runs import parse_job_id, read_run_records

    if is_batch(pipeline):  # a batch's jobs depend on nothing: its own jobs are all there is
        return plan(pipeline, target_texts, root_override)
    root = _root(pipeline, root_override) or pipeline.root
    recorded: list[Selection] = []
    for record in read_run_records(root):
        for line in record:
            try:
                name, case = parse_job_id(line)
            except ValueError:
                continue
            pairs = _recorded_case(pipeline, name, case)
            if pairs is not None:
                recorded.append(Selection(name, (pairs,)))
    return plan_jobs(pipeline, select(pipeline, target_texts), root, extra=recorded)


def _recorded_case(pipeline: Pipeline, name: str, case: Mapping[str, str]) -> Pairs | None:
    """The canonical case of a recorded job, or None when the task or a key is no longer defined."""
    info = pipeline.tasks.get(name)
    if info is None:
        return None
    defaults: dict[str, str] = {}
    for axis_name, key in case.items():
        axis = pipeline.axis(axis_name)
        if axis_name not in info.axes or axis is None or key not in axis:
            return None
        defaults[axis_name] = axis.default
    return tuple(sorted((a, k) for a, k in case.items() if defaults[a] != k))


def _root(pipeline: Pipeline, override: str | None) -> str | None:
    return os.path.normpath(os.path.join(pipeline.cwd, override)) if override else None


def _load_batch(path: str, defines: Mapping[str, str] | None, cwd: str) -> Pipeline:
    """A Hyperctl batch file (JSON or YAML) as a pipeline whose one task's cases are the batch's jobs."""
    from hypermetric import batch
    from hypermetric.errors import UsageError

    if defines:
        raise UsageError("-D overrides values of a .hm pipeline; a batch file defines none",
                         help="edit the batch's params, or generate a new batch with `hypermetric generate`")
    return batch.load(path, cwd)


def is_batch(pipeline: Pipeline) -> bool:
    """Whether `pipeline` came from a Hyperctl batch file (its jobs need no targets: all of them run)."""
    # Only the batch package makes batch pipelines: while it is not imported, none exists, and a command
    # on a `.hm` file need not import it to find that out.
    batch = sys.modules.get("hypermetric.batch")
    return batch is not None and isinstance(pipeline, batch.BatchPipeline)
