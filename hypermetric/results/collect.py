"""Cases of a task tensor and their output files to rows: axis columns, a status, then the parsed values.

Pure Python (no Arrow), so it can be tested and used without pyarrow. A case that is not done, or whose file
is missing, unreadable or empty, still gives a row: its values are null and its `status` says why
(`missing`, `unreadable`, `empty`, or the job's own status such as `failed` or `pending`). An `error` column
is added when some file could not be read. Fields whose names clash with these columns are renamed
`output.NAME`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from hypermetric.results.readers import MissingResultError, Record, ResultReadError, read_records

DONE = "done"
MISSING = "missing"
UNREADABLE = "unreadable"
EMPTY = "empty"
STATUS = "status"
ERROR = "error"
META_COLUMNS = ("duration_s", "attempt", "host")

Reader = Callable[..., list[Record]]


@dataclass(slots=True)
class CaseResult:
    """One case of a task tensor: its keys in axis order, its job status, and the output file to read."""

    case: dict[str, str]
    status: str = DONE
    path: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class _Staged:
    result: CaseResult
    status: str
    records: list[Record]
    error: str | None = None


def collect_rows(cases: Iterable[CaseResult], reader: Reader = read_records, per_query: bool = False,
                 with_meta: bool = False) -> list[dict[str, Any]]:
    """One row per record of every case (at least one per case); every row has the same columns, in order.

    `reader(path, per_query=...)` reads one file. With `with_meta`, the columns `duration_s`, `attempt` and
    `host` come from each case's `meta` (a job's `job.json`).
    """
    axes: dict[str, None] = {}
    fields: dict[str, Any] = {}
    staged: list[_Staged] = []
    for result in cases:
        axes.update(dict.fromkeys(result.case))
        item = _read_case(result, reader, per_query)
        for record in item.records:
            fields.update(record)
        staged.append(item)
    reserved = {*axes, STATUS, ERROR, *(META_COLUMNS if with_meta else ())}
    clashes = reserved.intersection(fields)
    columns = [*axes, STATUS, *(META_COLUMNS if with_meta else ())]
    columns += [f"output.{name}" if name in clashes else name for name in fields]
    if any(item.error is not None for item in staged):
        columns.append(ERROR)
    template = dict.fromkeys(columns)
    rows: list[dict[str, Any]] = []
    for item in staged:
        base = template.copy()
        base.update(item.result.case)
        base[STATUS] = item.status
        if with_meta:
            base.update(_meta_columns(item.result.meta))
        if item.error is not None:
            base[ERROR] = item.error
        if not item.records:
            rows.append(base)
        for record in item.records:
            row = base.copy()
            row.update(_renamed(record, clashes) if clashes else record)
            rows.append(row)
    return rows


def _read_case(result: CaseResult, reader: Reader, per_query: bool) -> _Staged:
    if result.status != DONE:
        return _Staged(result, result.status, [])
    if result.path is None:
        return _Staged(result, MISSING, [], "no output file")
    try:
        records = reader(result.path, per_query=per_query)
    except (MissingResultError, FileNotFoundError):
        return _Staged(result, MISSING, [], f"no such file: {result.path}")
    except ResultReadError as e:
        return _Staged(result, UNREADABLE, [], e.reason)
    except OSError as e:
        return _Staged(result, UNREADABLE, [], e.strerror or str(e))
    return _Staged(result, DONE if records else EMPTY, records)


def _meta_columns(meta: dict[str, Any]) -> dict[str, Any]:
    duration = meta.get("duration_s", meta.get("duration"))
    return {"duration_s": duration, "attempt": meta.get("attempt"), "host": meta.get("host")}


def _renamed(record: Record, clashes: set[str]) -> Record:
    return {f"output.{k}" if k in clashes else k: v for k, v in record.items()}
