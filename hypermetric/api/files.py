"""Files the API writes besides job outputs: an HTML report, a reduction folder's table, a batch file."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hypermetric.plan.graph import JobGraph
from hypermetric.report import ReportOptions

if TYPE_CHECKING:
    import pyarrow as pa


def report(graph: JobGraph, path: str, options: ReportOptions | None = None) -> str:
    """Write one self-contained HTML file about the jobs of `graph` (statuses, task graph, charts and the
    targets' results tables) to `path`; returns the path written."""
    from hypermetric.report import write_report

    return write_report(graph, path, options or ReportOptions())


def collect_folder(inputs: str | os.PathLike[str], *, per_query: bool = False) -> pa.Table:
    """One table over every entry of the reduction folder `inputs` (a job's `$t[A: *].out` input): a column
    per reduced axis, `status`, then the values, read as `results` reads them."""
    from hypermetric.results.tablecollect import collect_folder as collect

    return collect(inputs, per_query=per_query)


def collect_to_parquet(inputs: str | os.PathLike[str], output: str | os.PathLike[str], *,
                       per_query: bool = False) -> Path:
    """Write `collect_folder(inputs)` to `output` as Parquet (the stdlib's `table.collect`)."""
    from hypermetric.results.tablecollect import collect_to_parquet as collect

    return collect(inputs, output, per_query=per_query)


def generate_batch(template: str, output: str | None = None) -> tuple[dict[str, Any], str]:
    """Expand a Hyperctl job template (YAML or JSON, params with lists of values) into a batch with one job
    per combination; writes it to `output` when given. Returns the batch and its JSON text."""
    from hypermetric.batch.template import expand_template, write_batch
    from hypermetric.errors import UsageError

    if not os.path.isfile(template):
        raise UsageError(f"template file {template} does not exist")
    batch = expand_template(template)
    return batch, write_batch(batch, output)


def write_table(table: pa.Table, path: str | os.PathLike[str], format: str | None = None) -> Path:
    """Write a results table to `path` as Parquet, CSV or JSON (`format`, else the path's suffix)."""
    from hypermetric.results.arrow import write_table as write

    return write(table, path, format)
