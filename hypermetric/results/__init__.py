"""Results across a task tensor: output files to rows (pure Python), rows to Arrow tables (lazy pyarrow).

The names below are loaded on first use, so a job that only writes a reduction's manifest
(`results.manifest`) does not load the readers and collectors with the package.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hypermetric.results.collect import CaseResult, collect_rows
    from hypermetric.results.readers import MissingResultError, ResultReadError, read_records

__all__ = ["CaseResult", "MissingResultError", "ResultReadError", "collect_rows", "read_records"]

_HOME = {"CaseResult": "collect", "collect_rows": "collect", "MissingResultError": "readers",
         "ResultReadError": "readers", "read_records": "readers"}


def __getattr__(name: str) -> Any:
    module = _HOME.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
