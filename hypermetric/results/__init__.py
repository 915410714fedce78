"""Results across a task tensor: output files to rows (pure Python), rows to Arrow tables (lazy pyarrow)."""

from __future__ import annotations

from hypermetric.results.collect import CaseResult, collect_rows
from hypermetric.results.readers import MissingResultError, ResultReadError, read_records

__all__ = ["CaseResult", "MissingResultError", "ResultReadError", "collect_rows", "read_records"]
