"""Large outputs to Arrow tables with pyarrow's own readers: Parquet, Arrow IPC, and big CSV/TSV files.

A table's columns are brought to the types `results` uses everywhere (see `arrow.column_array`): integers
are int64, floats float64, text string; nested structs are flattened into dotted columns (`a.b`) and any other
type (lists, timestamps, decimals) becomes text. CSV cells are typed as the Python reader types them where
pyarrow can: numbers (`nan` and `inf` included) or text, never booleans or dates, and an empty cell is null.
A Parquet or Arrow file of fewer than `SMALL_TABLE_ROWS` rows is returned as records, like any small output.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hypermetric.results.failures import ResultReadError
from hypermetric.results.textformats import Record, flatten

if TYPE_CHECKING:
    import pyarrow as pa

SMALL_TABLE_ROWS = 10_000


def read_table_file(path: str, fmt: str) -> list[Record] | pa.Table:
    """The Parquet (`fmt="parquet"`) or Arrow IPC file at `path`: records when small, else a table."""
    import pyarrow as pa

    try:
        if fmt == "parquet":
            import pyarrow.parquet as pq

            table = pq.read_table(path)
        else:
            table = _read_ipc(path)
    except (OSError, pa.ArrowException) as e:
        raise ResultReadError(path, f"not a readable {fmt} file: {e}") from None
    if table.num_rows < SMALL_TABLE_ROWS:
        return [flatten(record) for record in table.to_pylist()]
    return normalized(table)


def _read_ipc(path: str) -> Any:
    import pyarrow as pa
    from pyarrow import ipc

    with pa.memory_map(path) as source:
        try:
            return ipc.open_file(source).read_all()
        except pa.ArrowInvalid:
            source.seek(0)
            try:
                return ipc.open_stream(source).read_all()
            except pa.ArrowInvalid:
                from pyarrow import feather

                return feather.read_table(path)


def read_csv_table(path: str, delimiter: str) -> pa.Table:
    """A CSV/TSV file with a header line as a table, its cells typed as the module docstring says."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    parse = pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True)
    convert = pacsv.ConvertOptions(null_values=[""], strings_can_be_null=True, quoted_strings_can_be_null=True,
                                   true_values=[], false_values=[])
    try:
        table = pacsv.read_csv(path, parse_options=parse, convert_options=convert)
        # Columns pyarrow took for dates or times are read again as the text they are.
        as_text = {f.name: pa.string() for f in table.schema if not _plain_csv_type(f.type)}
        if as_text:
            convert.column_types = as_text
            table = pacsv.read_csv(path, parse_options=parse, convert_options=convert)
    except (OSError, pa.ArrowException) as e:
        raise ResultReadError(path, f"not a readable CSV file: {e}") from None
    return _renamed(normalized(table))


def _plain_csv_type(type_: pa.DataType) -> bool:
    import pyarrow as pa

    return type_ in (pa.int64(), pa.float64(), pa.string(), pa.null())


def _renamed(table: pa.Table) -> pa.Table:
    """Header names as the Python reader gives them: stripped, `columnN` when blank, the last one of a name."""
    names = [name.strip() or f"column{i + 1}" for i, name in enumerate(table.column_names)]
    last = {name: i for i, name in enumerate(names)}
    keep = [i for i, name in enumerate(names) if last[name] == i]
    import pyarrow as pa

    return pa.Table.from_arrays([table.column(i) for i in keep], names=[names[i] for i in keep])


def normalized(table: pa.Table) -> pa.Table:
    """`table` with structs flattened into dotted columns and every column of a type `results` uses."""
    import pyarrow as pa

    while any(pa.types.is_struct(f.type) for f in table.schema):
        table = table.flatten()
    return pa.Table.from_arrays([normalized_column(table.column(i)) for i in range(table.num_columns)],
                                names=table.column_names)


def normalized_column(column: Any) -> Any:
    """One column as null, bool, int64, float64 or string (anything else as its display text)."""
    import pyarrow as pa
    import pyarrow.types as t

    type_ = column.type
    if t.is_dictionary(type_):
        return normalized_column(column.cast(type_.value_type))
    if t.is_null(type_) or t.is_boolean(type_) or type_ in (pa.int64(), pa.float64(), pa.string()):
        return column
    try:
        if t.is_integer(type_):
            return column.cast(pa.int64())
        if t.is_floating(type_):
            return column.cast(pa.float64())
        if t.is_string(type_) or t.is_large_string(type_):
            return column.cast(pa.string())
    except pa.ArrowInvalid:  # an unsigned value past int64: kept as text, as the Python path does
        pass
    from hypermetric.results.arrow import to_text

    return pa.array([None if v is None else to_text(v) for v in column.to_pylist()], pa.string())
