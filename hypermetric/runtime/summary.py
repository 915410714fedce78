"""`RunResult` and the summary printed after a run: rows, failures, and mean/count/errors per metric."""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pyarrow as pa


@dataclass(frozen=True, slots=True)
class MetricSummary:
    """One metric column over the whole run: the mean of its values, how many there are, how many failed."""

    name: str
    mean: float | None
    count: int
    errors: int


@dataclass(frozen=True)
class RunResult:
    """The outcome of a run: the final table (`table`, read on first use) and where it lies (`path`).

    `rows` counts every row in the table (this run's and earlier runs' into the same directory); `ran` and
    `skipped` count this run's rows run and rows already recorded; `failed` counts rows whose call failed,
    and `failures` counts them by exception type.
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

    @functools.cached_property
    def table(self) -> pa.Table:
        import pyarrow.parquet as pq

        return pq.read_table(self.path)


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
        width = max(len("metric"), *(len(name) for name in result.metrics))
        lines.append(f"  {'metric':<{width}}  {'mean':>10}  {'count':>8}  {'errors':>6}")
        for name, summary in result.metrics.items():
            mean = _number(summary.mean)
            lines.append(f"  {name:<{width}}  {mean:>10}  {summary.count:>8}  {summary.errors:>6}")
    return "\n".join(lines)


def print_summary(result: RunResult, *, quiet: bool = False) -> None:
    """Prints the summary unless `quiet`; the one place the runtime prints."""
    if not quiet:
        print(format_summary(result), flush=True)


def failure_counts(path: Path) -> dict[str, int]:
    """The failed rows of the results table at `path` by exception type (the text before `:` in `error`),
    most frequent first."""
    import pyarrow.parquet as pq

    from hypermetric.runtime import columns as cols

    counts: dict[str, int] = {}
    for error in pq.read_table(path, columns=[cols.ERROR]).column(cols.ERROR).to_pylist():
        if error is not None:
            kind = error.split(":", 1)[0]
            counts[kind] = counts.get(kind, 0) + 1
    return dict(sorted(counts.items(), key=lambda item: -item[1]))
