"""One run from start to finish: find the dataset and output folder, drive the pool, reconcile, summarise."""

from __future__ import annotations

import datetime
import itertools
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hypermetric.process_wide import older_objects_frozen
from hypermetric.runtime.data.dataset import DATASET_ENV, Dataset
from hypermetric.runtime.data.sharding import RowBatch, RowSet, auto_batch_size, iter_batches
from hypermetric.runtime.drive.driver import Driver, DriveStats
from hypermetric.runtime.drive.execute import CallPlan
from hypermetric.runtime.drive.notices import FailureNotices
from hypermetric.runtime.drive.pool import EvaluatorConfig, LocalPool, Pool
from hypermetric.runtime.options import RetryPolicy, RuntimeOptions
from hypermetric.runtime.parts.reconcile import reconcile
from hypermetric.runtime.parts.sink import completed_rows, next_run
from hypermetric.runtime.result.summary import RunResult, failure_counts, print_summary, summarize_metrics

# Rows in flight: per worker, its queued runs plus room for a group of finished batches held for an evaluator
# and another being scored (see `drive.ready`), so that workers never wait for the evaluator's reply.
IN_FLIGHT_BATCHES_PER_WORKER = 6
WORKERS_PER_EVALUATOR = 4
MIN_CRASH_LIMIT = 3


def _dataset(options: RuntimeOptions, bound: Dataset | None) -> Dataset:
    dataset = next((d for d in (options.dataset, bound) if d is not None), None)
    if dataset is None:
        dataset = Dataset.from_environment()
    if dataset is None:
        raise ValueError("no dataset to run over: pass @runtime(dataset=...), call with fields of a dataset "
                         f"(ds.field), or set {DATASET_ENV} to a .jsonl, .csv or .parquet file")
    return dataset


def _output_dir(options: RuntimeOptions, name: str) -> Path:
    if options.output_dir is not None:
        path = Path(options.output_dir)
    else:
        path = Path("evals") / f"{name}-{datetime.datetime.now():%Y%m%d-%H%M%S-%f}"
    path = path.resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def _check_fields(first: RowBatch, plan: CallPlan) -> None:
    """Checks on the first batch that the dataset has every field the call needs."""
    missing = sorted(plan.fields() - set(first.columns))
    if missing:
        raise ValueError(f"the dataset has no field {', '.join(map(repr, missing))} "
                         f"(fields: {', '.join(first.columns) or 'none'})")


def _pool(fn: Callable[..., Any], plan: CallPlan, options: RuntimeOptions, workers: int, evaluators: int,
          config: EvaluatorConfig) -> Pool:
    """The pool; `evaluators=0` makes workers score their own batches (one evaluator in each)."""
    retry = RetryPolicy(options.max_retries, float(options.delay_seconds), options.retry_on())
    notices = FailureNotices(enabled=not options.quiet)
    if not options.parallel:
        return LocalPool(fn, plan, retry, evaluators or workers, config, scores_in_workers=not evaluators,
                         notices=notices)
    from hypermetric.runtime.drive.actors import RayPool

    return RayPool(fn, plan, retry, workers, evaluators, config, options.num_cpus, notices)


def run(fn: Callable[..., Any], plan: CallPlan, options: RuntimeOptions, bound: Dataset | None) -> RunResult:
    """Runs `fn` over the dataset's rows as `plan` says and returns the reconciled result."""
    started = time.monotonic()
    dataset = _dataset(options, bound)
    output_dir = _output_dir(options, getattr(fn, "__name__", "run"))
    done = completed_rows(output_dir) if options.resume else RowSet()
    size = dataset.size()
    remaining = None if size is None else int(min(max(size - len(done), 1), options.max_runs))
    batch_size = options.batch_size or auto_batch_size(remaining, options.workers)
    if options.max_in_flight is not None:
        batch_size = min(batch_size, options.max_in_flight)
    workers = options.workers
    if remaining is not None:  # no more workers than batches
        workers = max(1, min(workers, math.ceil(remaining / batch_size)))
    max_in_flight = options.max_in_flight or batch_size * workers * IN_FLIGHT_BATCHES_PER_WORKER
    evaluators = options.evaluators
    if evaluators is None:
        evaluators = math.ceil(workers / WORKERS_PER_EVALUATOR)
    config = EvaluatorConfig(output_dir, next_run(output_dir), options.flush_rows, options.flush_bytes)
    batches = iter_batches(dataset, batch_size, done, options.max_runs)
    first = next(batches, None)
    stats = DriveStats(0, 0, 0, 0, 0, 0)
    pool: Pool | None = None
    try:
        if first is not None:  # with nothing to run, no actor is started
            _check_fields(first, plan)
            if options.parallel:
                from hypermetric.runtime.drive.actors import workers_that_fit

                workers = workers_that_fit(workers, options.num_cpus)
            pool = _pool(fn, plan, options, workers, evaluators, config)
            # Objects older than the run stay out of the collector's passes while it runs (see process_wide),
            # from once the pool is made: Ray's modules are loaded by then.
            with older_objects_frozen():
                stats = Driver(pool, itertools.chain([first], batches), workers=workers,
                               evaluators=evaluators or workers, max_in_flight=max_in_flight,
                               crash_limit=max(MIN_CRASH_LIMIT, options.max_retries),
                               plan=plan, progress=options.progress).run()
        # Reconciled before the actors stop: Ray starts fresh idle processes in place of stopped ones, and
        # they would compete with it for the CPUs.
        final = reconcile(output_dir)
    finally:
        if pool is not None:
            pool.shutdown()
    metrics, notes = summarize_metrics(final.path, final.metrics, options.reductions)
    result = RunResult(final.path, output_dir, final.rows, stats.read_rows, len(done), final.failed,
                       metrics, time.monotonic() - started,
                       stats.peak_in_flight_rows, stats.lost_workers, stats.lost_evaluators,
                       failure_counts(final.path) if final.failed else {}, notes)
    print_summary(result, quiet=options.quiet)
    return result
