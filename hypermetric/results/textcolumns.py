"""Large `name id value` text (trec_eval `-q` output) read column by column, without a Python object per line.

pyarrow's CSV reader splits the lines into three string columns; Arrow kernels trim and type the values;
numpy pivots them into one column per name and a row per id. The answer is exactly what `textformats` gives
for the same text (rows, their order, the columns, their order and their types), as a `pyarrow.Table`, or as
the one summary record where that is what `textformats` returns.

Only the plain shape is read here: ASCII text whose every line holds three fields, split by tabs (each field
stripped of spaces) or by single spaces, with no comment, no empty field, no name given twice for one id and
numbers for every per-id value. Anything else (a `name value` line, a `#` comment, a text value, a number too
big for 64 bits, NUL or other control bytes) makes `read_columns` return None, and the Python parser, which
knows every rule and every error message, reads the file instead. Rows of a sparse file (many ids, each with
its own names) would make the pivot larger than the text; those go to the Python parser too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from hypermetric.results.textformats import Record, parse_scalar

if TYPE_CHECKING:
    import pyarrow as pa

SUMMARY_ID = "all"
_INT = r"^[+-]?[0-9]+$"  # what `parse_scalar` reads as an int; Arrow's own cast also takes `0x10`
_OFF_SHAPE = (b"#", b"(")  # a comment line; `nan(1)`, a float to Arrow and text to Python
_PRINTABLE = bytes(range(32, 127))
_SPARSE = 4  # pivot cells per line allowed before the file counts as sparse


def read_columns(data: bytes, per_query: bool) -> pa.Table | list[Record] | None:
    """The records of `name id value` text `data` as `textformats.parse_text` returns them (a table in
    place of a list of per-id records), or None when the text is not of the plain shape (module docstring)."""
    if not _plain_bytes(data):
        return None
    import pyarrow as pa

    try:
        lines = _split(data)
    except pa.ArrowInvalid:  # a line of another number of fields: the Python parser says which
        return None
    if lines is None:
        return None
    names, ids, values = lines
    return _records(names, ids, values, per_query)


def _plain_bytes(data: bytes) -> bool:
    """ASCII with no control byte but tab, CR and LF, and none of the bytes that need the Python parser."""
    if any(mark in data for mark in _OFF_SHAPE):
        return False
    return not data.translate(None, _PRINTABLE).translate(None, b"\t\n\r")


def _split(data: bytes) -> tuple[Any, Any, Any] | None:
    """The three string columns of the lines, stripped as the Python parser strips them; None where some
    field is empty or a name is `id` (it would overwrite the id of its record)."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    tabs = b"\t" in data
    read = pacsv.ReadOptions(column_names=["name", "id", "value"], use_threads=False)
    parse = pacsv.ParseOptions(delimiter="\t" if tabs else " ", quote_char=False, double_quote=False,
                               escape_char=False, ignore_empty_lines=True)
    convert = pacsv.ConvertOptions(column_types=dict.fromkeys(("name", "id", "value"), pa.string()),
                                   strings_can_be_null=False)
    table = pacsv.read_csv(pa.BufferReader(data), read_options=read, parse_options=parse,
                           convert_options=convert)
    columns = [table.column(i).combine_chunks() for i in range(3)]
    if tabs:  # the Python parser strips each tab-separated field; in this ASCII text that means spaces
        columns = [pc.ascii_trim(c, " ") for c in columns]
    names, ids, values = columns
    if any(pc.any(pc.equal(pc.binary_length(c), 0)).as_py() for c in columns):
        return None
    if pc.any(pc.equal(names, "id")).as_py():
        return None
    return names, ids, values


def _records(names: Any, ids: Any, values: Any, per_query: bool) -> pa.Table | list[Record] | None:
    import pyarrow.compute as pc

    is_summary = pc.equal(ids, SUMMARY_ID)
    summary: Record = {}
    for name, value in zip(names.filter(is_summary).to_pylist(), values.filter(is_summary).to_pylist(),
                           strict=True):
        summary[name] = parse_scalar(value)
    per_id = pc.invert(is_summary)
    if not pc.any(per_id).as_py():
        return [summary] if summary else []
    if summary and not per_query:
        return [summary]
    return _pivot(names.filter(per_id), ids.filter(per_id), values.filter(per_id), summary)


def _codes(column: Any) -> tuple[np.ndarray, Any]:
    """An integer per value, numbered in order of first appearance, and the distinct values in that order."""
    import pyarrow.compute as pc

    encoded = pc.dictionary_encode(column)
    return encoded.indices.to_numpy().astype(np.intp), encoded.dictionary


def _pivot(names: Any, ids: Any, values: Any, summary: Record) -> pa.Table | None:
    """A row per id (first appearance order) and then the summary's row; a column per name, ordered as the
    Python parser's records first name them."""
    id_code, id_values = _codes(ids)
    name_code, name_values = _codes(names)
    shape = (len(name_values), len(id_values))
    if shape[0] * shape[1] > _SPARSE * len(names) + 1024:
        return None
    cell = name_code * shape[1] + id_code
    if np.bincount(cell, minlength=shape[0] * shape[1]).max() > 1:  # a name given twice for one id
        return None
    typed = _typed_values(values, name_code, shape[0])
    if typed is None:
        return None
    floats, ints, int_names = typed
    present = _grid(cell, True, shape, bool)
    grid = _grid(cell, floats, shape, np.float64)
    int_grid = _grid(cell[int_names[name_code]], ints, shape, np.int64) if int_names.any() else None
    columns = {"id": _id_column(id_values, bool(summary))}
    for j in _name_order(id_code, name_code, shape[0]):
        name = name_values[j].as_py()
        ints_of_j = int_grid[j] if int_grid is not None and int_names[j] else None
        column = _column(grid[j], ints_of_j, ~present[j], bool(summary), summary.get(name))
        if column is None:
            return None
        columns[name] = column
    return _with_summary_only_names(columns, summary, shape[1])


def _grid(cells: np.ndarray, values: Any, shape: tuple[int, int], dtype: Any) -> np.ndarray:
    """A (names x ids) matrix holding `values` at the flat positions `cells`, zero elsewhere."""
    out = np.zeros(shape[0] * shape[1], dtype)
    out[cells] = values
    return out.reshape(shape)


def _id_column(id_values: Any, with_summary: bool) -> Any:
    import pyarrow as pa

    return pa.concat_arrays([id_values, pa.array([SUMMARY_ID])]) if with_summary else id_values


def _with_summary_only_names(columns: dict[str, Any], summary: Record, n_ids: int) -> pa.Table:
    """The table of `columns`, then a column for each name only the summary gives (such as trec_eval's
    `runid`), typed as the Python path types it."""
    import pyarrow as pa

    from hypermetric.results.arrow import column_array

    for name, value in summary.items():
        if name not in columns:
            columns[name] = column_array([None] * n_ids + [value])
    return pa.Table.from_arrays(list(columns.values()), names=list(columns))


def _typed_values(values: Any, name_code: np.ndarray,
                  n_names: int) -> tuple[np.ndarray, Any, np.ndarray] | None:
    """Every value as float64; the values of names whose every value is an integer also as int64 (in line
    order), and which names those are. None where a value is no number, or an integer past 64 bits."""
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        floats = pc.cast(values, pa.float64()).to_numpy()
    except pa.ArrowInvalid:
        return None
    is_int = pc.match_substring_regex(values, _INT).to_numpy(zero_copy_only=False)
    not_int = np.bincount(name_code, weights=~is_int, minlength=n_names)
    int_names = not_int == 0
    mixed = is_int & ~int_names[name_code]  # integers among a name's other numbers
    if mixed.any():
        try:
            pc.cast(pc.utf8_ltrim(values.filter(_bool_array(mixed)), "+"), pa.int64())
        except pa.ArrowInvalid:
            return None  # one past 64 bits: the Python parser keeps it exact
    ints = None
    if int_names.any():
        rows = int_names[name_code]
        try:
            ints = pc.cast(pc.utf8_ltrim(values.filter(_bool_array(rows)), "+"), pa.int64()).to_numpy()
        except pa.ArrowInvalid:
            return None
    return floats, ints, int_names


def _name_order(id_code: np.ndarray, name_code: np.ndarray, n_names: int) -> np.ndarray:
    """Names in the order the Python parser's records first hold them: records come in order of their id's
    first line, and each record's names in line order; so the lines are sorted by id, stably, and each name
    placed where it first occurs."""
    by_id = name_code[np.argsort(id_code, kind="stable")]
    firsts = np.full(n_names, len(by_id))
    np.minimum.at(firsts, by_id, np.arange(len(by_id)))
    return np.argsort(firsts, kind="stable")


def _column(floats: np.ndarray, ints: np.ndarray | None, absent: np.ndarray, with_summary: bool,
            summary_value: Any) -> Any:
    """One name's column: its per-id values (nulls where an id lacks it), then the summary's value. int64
    when every value is an integer, float64 when they are numbers; None (the Python parser decides) when the
    summary's value is text or an integer past 64 bits."""
    import pyarrow as pa

    if with_summary:
        kind = type(summary_value)
        if kind is int and ints is not None and -2**63 <= summary_value < 2**63:
            ints = np.append(ints, summary_value)
        elif kind in (int, float) and (kind is float or abs(summary_value) < 2**63):
            floats, ints = np.append(floats, float(summary_value)), None
        elif summary_value is None:
            floats = np.append(floats, 0.0)
            ints = None if ints is None else np.append(ints, 0)
        else:
            return None
        absent = np.append(absent, summary_value is None)
    if ints is not None:
        return _array(ints, pa.int64(), absent)
    return _array(floats, pa.float64(), absent)


def _array(values: np.ndarray, type_: Any, absent: np.ndarray) -> Any:
    """An Arrow array over numpy's memory, null where `absent`. (`pyarrow.array` of a numpy array would
    import `numpy.ma`, 10-30 ms, to ask whether it is a masked array.)"""
    import pyarrow as pa

    nulls = int(np.count_nonzero(absent))
    validity = pa.py_buffer(np.packbits(~absent, bitorder="little")) if nulls else None
    return pa.Array.from_buffers(type_, len(values), [validity, pa.py_buffer(values)], null_count=nulls)


def _bool_array(mask: np.ndarray) -> Any:
    """A numpy mask as an Arrow boolean array, without `pyarrow.array` (see `_array`)."""
    import pyarrow as pa

    bits = pa.py_buffer(np.packbits(mask, bitorder="little"))
    return pa.Array.from_buffers(pa.bool_(), len(mask), [None, bits])
