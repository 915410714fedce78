"""`RunResult` and the summary printed after a run: rows, failures, and per metric its mean, count, errors and
the reductions asked for (`@runtime(reductions=...)`, see `reductions`)."""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hypermetric.runtime.result.reductions import Reductions

if TYPE_CHECKING:
    import pyarrow as pa


@dataclass(frozen=True, slots=True)
class MetricSummary:
    """One metric column over the whole run: the mean of its values, how many there are, how many failed, and
    the reductions asked for by label (`median`, `p90`, `ci95.low`...), with the error of any that raised."""

    name: str
    mean: float | None
    count: int
    errors: int
    reductions: Mapping[str, float | None] = field(default_factory=dict, hash=False)
    reduction_errors: Mapping[str, str] = field(default_factory=dict, hash=False)


@dataclass(frozen=True)
class RunResult:
    """The outcome of a run: the final table (`table`, read on first use) and where it lies (`path`).

    `rows` counts every row in the table (this run's and earlier runs' into the same directory); `ran` and
    `skipped` count this run's rows run and rows already recorded; `failed` counts rows whose call failed,
    and `failures` counts them by exception type. `notes` says what the summary could not do as asked (a
    reductions key that names no metric).
    """

    path: Path
    output_dir: Path
    rows: int
    ran: int
    skipped: int
    failed: int
    metrics: dict[str, MetricSummary]
    seconds: float
    peak_in_flight_rows: int
    lost_workers: int
    lost_evaluators: int
    failures: dict[str, int] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    @functools.cached_property
    def table(self) -> pa.Table:
        import pyarrow.parquet as pq

        return pq.read_table(self.path)

    def reduce(self, reductions: Any) -> dict[str, MetricSummary]:
        """The metrics' summaries with other reductions (as `@runtime(reductions=...)` takes them), computed
        from the final table."""
        return summarize_metrics(self.path, self.metrics.values(), reductions)[0]


def _number(value: float | None) -> str:
    if value is None:
        return "-"
    return "nan" if math.isnan(value) else f"{value:.4f}"


def format_summary(result: RunResult) -> str:
    """The summary as plain text: a header line, the results path, and a table of metrics."""
    lines = [f"hypermetric: {result.rows} rows ({result.ran} run, {result.skipped} skipped, "
             f"{result.failed} failed) in {result.seconds:.2f}s",
             f"  results: {result.path}"]
    if result.lost_workers or result.lost_evaluators:
        lines.append(f"  recovered from {result.lost_workers} lost workers and "
                     f"{result.lost_evaluators} lost evaluators")
    if result.failed:
        kinds = ", ".join(f"{kind} {count}" for kind, count in result.failures.items())
        lines.append(f"  {result.failed} rows failed{f' ({kinds})' if kinds else ''}: "
                     f"each keeps its error in the `error` column")
    if result.metrics:
        lines.extend(_metric_table(result.metrics))
    lines.extend(f"  note: {note}" for note in result.notes)
    return "\n".join(lines)


def _metric_table(metrics: Mapping[str, MetricSummary]) -> list[str]:
    """One line per metric: mean, count, errors, then a column per reduction label any metric has."""
    labels = list(dict.fromkeys(label for summary in metrics.values() for label in summary.reductions))
    widths = [max(10, len(label)) for label in labels]
    width = max(len("metric"), *(len(name) for name in metrics))
    extra = "".join(f"  {label:>{w}}" for label, w in zip(labels, widths))
    lines = [f"  {'metric':<{width}}  {'mean':>10}  {'count':>8}  {'errors':>6}{extra}"]
    for name, summary in metrics.items():
        values = "".join(f"  {_number(summary.reductions.get(label)):>{w}}"
                         for label, w in zip(labels, widths))
        lines.append(f"  {name:<{width}}  {_number(summary.mean):>10}  {summary.count:>8}  "
                     f"{summary.errors:>6}{values}")
    for name, summary in metrics.items():
        lines.extend(f"  reduction {label} of {name} failed: {error}"
                     for label, error in summary.reduction_errors.items())
    return lines


def print_summary(result: RunResult, *, quiet: bool = False) -> None:
    """Prints the summary unless `quiet`; the one place the runtime prints."""
    if not quiet:
        print(format_summary(result), flush=True)


def failure_counts(path: Path) -> dict[str, int]:
    """The failed rows of the results table at `path` by exception type (the text before `:` in `error`),
    most frequent first."""
    import pyarrow.parquet as pq

    from hypermetric.runtime.result import columns as cols

    counts: dict[str, int] = {}
    for error in pq.read_table(path, columns=[cols.ERROR]).column(cols.ERROR).to_pylist():
        if error is not None:
            kind = error.split(":", 1)[0]
            counts[kind] = counts.get(kind, 0) + 1
    return dict(sorted(counts.items(), key=lambda item: -item[1]))


def summarize_metrics(path: Path, metrics: Iterable[MetricSummary],
                      reductions: Any) -> tuple[dict[str, MetricSummary], tuple[str, ...]]:
    """The metrics' summaries by name, each with the reductions `reductions` asks for it (None: none),
    computed from their columns of the table at `path`; and notes on keys that name no metric."""
    summaries = {metric.name: metric for metric in metrics}
    if reductions is None:
        return summaries, ()
    wanted = Reductions.parse(reductions)
    chosen = {name: wanted.for_column(name) for name in summaries}
    columns = [name for name, items in chosen.items() if items]
    values = _metric_values(path, columns) if columns else {}
    for name in columns:
        results: dict[str, float | None] = {}
        errors: dict[str, str] = {}
        for item in chosen[name]:
            try:
                results.update(item.apply(values[name]))
            except Exception as error:  # a user's reduction: its error is reported, the others still shown
                errors[item.name] = f"{type(error).__name__}: {error}"
        summaries[name] = replace(summaries[name], reductions=results, reduction_errors=errors)
    notes = tuple(f"reductions for {key!r} match no metric column"
                  for key in wanted.unmatched(summaries))
    return summaries, notes


def _metric_values(path: Path, columns: list[str]) -> dict[str, Any]:
    """Each column's values as a float NumPy array, rows without a value left out (a metric that failed on
    every row has no column: no values)."""
    import numpy as np
    import pyarrow.parquet as pq

    present = set(pq.read_schema(path).names)
    table = pq.read_table(path, columns=[name for name in columns if name in present])
    return {name: table.column(name).drop_null().to_numpy().astype(float, copy=False) if name in present
            else np.empty(0) for name in columns}
