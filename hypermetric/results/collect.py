"""Cases of a task tensor and their output files to rows: axis columns, a status, then the parsed values.

Pure Python (no Arrow), so it can be tested and used without pyarrow; `assemble` builds the Arrow table
directly, for cases whose outputs are large tables. A case that is not done, or whose file
is missing, unreadable or empty, still gives a row: its values are null and its `status` says why. An
`error` column is added when some file could not be read. Fields whose names clash with these columns are
renamed `output.NAME`.

The `status` column speaks the words `dry-run` and `run` print for a job: COMPLETE (done, its output read),
OUTDATED (done but made from something that has changed since; its output read all the same), FAILED or
PENDING (not done, nothing read). Three more say why a done job's output gave no values, where no job
status fits: MISSING (no such file), UNREADABLE (no reader could parse it) and EMPTY (it holds no records).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from hypermetric.results.readers import MissingResultError, Record, ResultReadError, read_records

COMPLETE = "COMPLETE"
OUTDATED = "OUTDATED"
FAILED = "FAILED"
PENDING = "PENDING"
MISSING = "MISSING"
UNREADABLE = "UNREADABLE"
EMPTY = "EMPTY"
READ = frozenset({COMPLETE, OUTDATED})     # the statuses of rows whose values were read from the output
STATUS = "status"
ERROR = "error"
META_COLUMNS = ("duration_s", "attempt", "host")

Reader = Callable[..., list[Record]]


def case_status(job_status: str) -> str:
    """The `status` of a case whose job has the status labelled `job_status`: a job that finished in this
    run (SUCCESS) is COMPLETE by now, one that is not done in any way (SKIPPED, RUNNING...) is PENDING."""
    if job_status == "SUCCESS":
        return COMPLETE
    return job_status if job_status in (COMPLETE, OUTDATED, FAILED) else PENDING


@dataclass(slots=True)
class CaseResult:
    """One case of a task tensor: its keys in axis order, its job status, and the output file to read."""

    case: dict[str, str]
    status: str = COMPLETE
    path: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Staged:
    """One case read: its status, and its records or (for a large output) a table of them, opaque here."""

    result: CaseResult
    status: str
    records: list[Record]
    error: str | None = None
    table: Any = None


@dataclass(frozen=True, slots=True)
class Layout:
    """The columns of the whole result, in order, and the field names renamed because they clash."""

    columns: list[str]
    clashes: frozenset[str]
    with_meta: bool


def collect_rows(cases: Iterable[CaseResult], reader: Reader = read_records, per_query: bool = False,
                 with_meta: bool = False) -> list[dict[str, Any]]:
    """One row per record of every case (at least one per case); every row has the same columns, in order.

    `reader(path, per_query=...)` reads one file. With `with_meta`, the columns `duration_s`, `attempt` and
    `host` come from each case's `meta` (a job's `job.json`).
    """
    staged = stage_cases(cases, reader, per_query)
    return rows_of(staged, layout_of(staged, with_meta))


def stage_cases(cases: Iterable[CaseResult], reader: Reader, per_query: bool) -> list[Staged]:
    """Every case read with `reader`, which returns a list of records or a table (`column_names`, ...)."""
    return [_read_case(result, reader, per_query) for result in cases]


def layout_of(staged: list[Staged], with_meta: bool) -> Layout:
    """Axis columns, `status`, the meta columns if asked, every field in order of first appearance, and
    `error` when some case has one."""
    axes: dict[str, None] = {}
    fields: dict[str, None] = {}
    for item in staged:
        axes.update(dict.fromkeys(item.result.case))
        if item.table is not None:
            fields.update(dict.fromkeys(item.table.column_names))
        for record in item.records:
            fields.update(record)
    meta = META_COLUMNS if with_meta else ()
    clashes = frozenset({*axes, STATUS, ERROR, *meta}.intersection(fields))
    columns = [*axes, STATUS, *meta, *(f"output.{name}" if name in clashes else name for name in fields)]
    if any(item.error is not None for item in staged):
        columns.append(ERROR)
    return Layout(columns, clashes, with_meta)


def base_row(item: Staged, layout: Layout) -> dict[str, Any]:
    """The columns of `item`'s rows that come from its case (axes, status, meta, error), the rest None."""
    base = dict.fromkeys(layout.columns)
    base.update(item.result.case)
    base[STATUS] = item.status
    if layout.with_meta:
        base.update(_meta_columns(item.result.meta))
    if item.error is not None:
        base[ERROR] = item.error
    return base


def rows_of(staged: list[Staged], layout: Layout) -> list[dict[str, Any]]:
    """The rows of cases read as records (a table's case gives its one base row)."""
    rows: list[dict[str, Any]] = []
    clashes = layout.clashes
    for item in staged:
        base = base_row(item, layout)
        records = item.records if item.table is None else item.table.to_pylist()
        if not records:
            rows.append(base)
        for record in records:
            row = base.copy()
            row.update(_renamed(record, clashes) if clashes else record)
            rows.append(row)
    return rows


def _read_case(result: CaseResult, reader: Reader, per_query: bool) -> Staged:
    if result.status not in READ:
        return Staged(result, result.status, [])
    if result.path is None:
        return Staged(result, MISSING, [], "no output file")
    try:
        out = reader(result.path, per_query=per_query)
    except (MissingResultError, FileNotFoundError):
        return Staged(result, MISSING, [], f"no such file: {result.path}")
    except ResultReadError as e:
        return Staged(result, UNREADABLE, [], e.reason)
    except OSError as e:
        return Staged(result, UNREADABLE, [], e.strerror or str(e))
    except (RecursionError, MemoryError) as e:  # one hostile output must not sink the whole table
        return Staged(result, UNREADABLE, [], f"{type(e).__name__} while reading: {e}")
    if isinstance(out, list):
        return Staged(result, result.status if out else EMPTY, out)
    return Staged(result, result.status if out.num_rows else EMPTY, [], table=out)


def _meta_columns(meta: dict[str, Any]) -> dict[str, Any]:
    duration = meta.get("duration_s", meta.get("duration"))
    return {"duration_s": duration, "attempt": meta.get("attempt"), "host": meta.get("host")}


def _renamed(record: Record, clashes: frozenset[str]) -> Record:
    return {f"output.{k}" if k in clashes else k: v for k, v in record.items()}
