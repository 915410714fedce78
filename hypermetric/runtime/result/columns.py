"""Result columns: their names and order, Python values to Arrow arrays, and one schema across many parts.

Outputs can be any Python value, and parts are written at different times, so a column's type is decided once
for the whole run: null merges into anything, integers and floats merge into float64, and any other mix falls
back to text. Containers become JSON text and other objects their `repr`, so every value fits in a column.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow as pa

ROW_ID = "row_id"
INPUT_PREFIX = "input."
OUTPUT = "output"
OUTPUT_SUFFIX = ".output"
ERROR = "error"
EVAL_ERRORS = "eval_errors"
ATTEMPTS = "attempts"
_TRAILING = (ERROR, EVAL_ERRORS, ATTEMPTS)
_SCALARS = frozenset({type(None), bool, int, float, str, bytes})
_ARROW_TYPES = {str: "string", int: "int64", float: "float64", bool: "bool_", bytes: "binary"}


def is_metric_column(name: str) -> bool:
    """Whether a result column holds a metric value (`component.Metric` or `component.Metric.key`)."""
    return ("." in name and not name.startswith(INPUT_PREFIX) and not name.endswith(OUTPUT_SUFFIX)
            and name not in _TRAILING)


def column_order(names: Iterable[str]) -> list[str]:
    """The canonical order: row id, inputs (as first seen), output, per component (sorted) its output and then
    its metrics (sorted), and last the status columns."""
    unique = list(dict.fromkeys(names))
    inputs = [name for name in unique if name.startswith(INPUT_PREFIX)]
    fixed = {ROW_ID, OUTPUT, *_TRAILING, *inputs}
    components = sorted((name for name in unique if name not in fixed),
                        key=lambda name: (name.split(".")[0], not name.endswith(OUTPUT_SUFFIX), name))
    head = [name for name in (ROW_ID,) if name in unique]
    middle = [name for name in (OUTPUT,) if name in unique]
    tail = [name for name in _TRAILING if name in unique]
    return head + inputs + middle + components + tail


def _plain(value: Any) -> Any:
    if type(value) in _SCALARS:
        return value
    item = getattr(value, "item", None)  # numpy scalars
    if callable(item) and getattr(value, "shape", None) == ():
        return _plain(item())
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value, default=repr, ensure_ascii=False)
    return repr(value)


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)


def to_array(values: Sequence[Any]) -> pa.Array:
    """An Arrow array for any Python values (see the module docstring for the rules)."""
    import pyarrow as pa

    kinds = set(map(type, values))
    plain = values if kinds <= _SCALARS else [_plain(value) for value in values]
    kinds.discard(type(None))
    try:
        if len(kinds) == 1 and (kind := next(iter(kinds))) in _ARROW_TYPES:
            # One known type: say it, rather than have Arrow infer it value by value (2-3x the cost).
            return pa.array(plain, type=getattr(pa, _ARROW_TYPES[kind])())
        return pa.array(plain)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        return pa.array([_text(value) for value in plain], type=pa.string())


def unify_types(types: Iterable[pa.DataType]) -> pa.DataType:
    """One type that every given type converts to without loss of meaning."""
    import pyarrow as pa

    distinct = {t for t in types if not pa.types.is_null(t)}
    if not distinct:
        return pa.null()
    if len(distinct) == 1:
        return distinct.pop()
    if all(pa.types.is_integer(t) or pa.types.is_floating(t) for t in distinct):
        return pa.float64()
    return pa.string()


def unify_schema(schemas: Iterable[pa.Schema]) -> pa.Schema:
    """One schema for many parts: every column of any of them, in canonical order, with unified types."""
    import pyarrow as pa

    types: dict[str, list[pa.DataType]] = {}
    for schema in schemas:
        for item in schema:
            types.setdefault(item.name, []).append(item.type)
    return pa.schema([pa.field(name, unify_types(types[name])) for name in column_order(types)])


def conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """`table` with exactly the columns of `schema`: missing ones null, others cast to the unified type."""
    import pyarrow as pa

    arrays = []
    for target in schema:
        if target.name not in table.column_names:
            arrays.append(pa.nulls(table.num_rows, type=target.type))
            continue
        column = table.column(target.name)
        arrays.append(column if column.type == target.type else column.cast(target.type))
    return pa.Table.from_arrays(arrays, schema=schema)


def concat(tables: Sequence[pa.Table]) -> pa.Table:
    """Tables with possibly different columns and types, stacked under their unified schema."""
    import pyarrow as pa

    if all(table.schema == tables[0].schema for table in tables):  # the usual case: one conform for all
        return conform(pa.concat_tables(tables), unify_schema([tables[0].schema]))
    schema = unify_schema(table.schema for table in tables)
    return pa.concat_tables([conform(table, schema) for table in tables])
