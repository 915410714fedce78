"""The manifest of a reduction folder: which case each entry stands for, and what it points to.

A reduction folder `d` holds exactly one entry per case, as in HyperMake, so that scripts which list it
(`ls`, `os.listdir`, `find`) see nothing else; its manifest lives beside it as the hidden file
`.d.manifest.arrow` (in the job directory, for an input named `d`). The manifest is an Arrow IPC file with one string column per reduced axis, then `entry` (the entry's
name) and `path` (the absolute path the entry points to). Columns are read by position, so an axis may be
named `entry` or `path`; the axis names are also kept in the schema metadata. Without a manifest,
`read_entries` falls back to parsing entry names (`A=x&B=y`, `default`); axes at their default key are then
null, since the default key is not written in a name, and names hashed for length give no case at all.
"""

from __future__ import annotations

import json
import os
import sys
from array import array
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from hypermetric.model.case import case_of_dirname
from hypermetric.results.readers import MissingResultError, ResultReadError

if TYPE_CHECKING:
    import pyarrow as pa

MANIFEST_SUFFIX = ".manifest.arrow"
_AXES_KEY = b"hypermetric.axes"

Entry = tuple[str, dict[str, str], str]


def manifest_path(folder: str | os.PathLike[str]) -> Path:
    """Where the manifest of reduction folder `folder` lives: `.<name>.manifest.arrow` beside it."""
    path = Path(os.path.abspath(folder))
    return path.with_name(f".{path.name}{MANIFEST_SUFFIX}")


def write_manifest(folder: str | os.PathLike[str], entries: Sequence[Entry], axes: Sequence[str]) -> Path:
    """Write the manifest of reduction folder `folder` (beside it) for `entries` of `(entry name, case, target path)`, atomically.

    A relative target path is taken relative to `folder` (where a relative symlink points from).
    """
    import pyarrow as pa
    from pyarrow import ipc

    target = manifest_path(folder)
    columns = [_strings([case.get(axis) for _, case, _ in entries]) for axis in axes]
    columns.append(_strings([name for name, _, _ in entries]))
    columns.append(_strings([os.path.abspath(os.path.join(folder, path)) for _, _, path in entries]))
    fields = [pa.field(name, pa.string()) for name in [*axes, "entry", "path"]]
    schema = pa.schema(fields, metadata={_AXES_KEY: json.dumps(list(axes)).encode()})
    table = pa.Table.from_arrays(columns, schema=schema)
    tmp = target.with_name(f"{target.name}.tmp-{os.getpid()}")
    try:
        with ipc.new_file(str(tmp), schema) as writer:
            writer.write_table(table)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return target


def _strings(values: Sequence[str | None]) -> pa.Array:
    """A string array of `values` (None: null), built from its buffers: `pa.array` on a Python list first
    imports pandas (when it is installed) to see whether the list is a pandas object, which costs the job
    runner that writes a reduction's manifest about half a second of CPU."""
    import pyarrow as pa

    data, offsets, valid = bytearray(), array("i", [0]), bytearray((len(values) + 7) // 8)
    for i, value in enumerate(values):
        if value is not None:
            data += value.encode()
            valid[i >> 3] |= 1 << (i & 7)
        offsets.append(len(data))
    if sys.byteorder == "big":  # Arrow's buffers are little-endian
        offsets.byteswap()
    nulls = sum(1 for value in values if value is None)
    bitmap = pa.py_buffer(bytes(valid)) if nulls else None
    return pa.StringArray.from_buffers(len(values), pa.py_buffer(offsets.tobytes()), pa.py_buffer(bytes(data)),
                                       bitmap, nulls)


def read_manifest(folder: str | os.PathLike[str]) -> pa.Table:
    """The manifest table of a reduction folder; `MissingResultError` when it has none."""
    import pyarrow as pa
    from pyarrow import ipc

    path = manifest_path(folder)
    if not path.is_file():
        raise MissingResultError(path)
    try:
        with pa.memory_map(str(path)) as source:
            return ipc.open_file(source).read_all()
    except (OSError, pa.ArrowException) as e:
        raise ResultReadError(path, f"not a readable manifest: {e}") from None


def manifest_axes(table: pa.Table) -> list[str]:
    """The reduced axes of a manifest table, from its metadata (or all columns but the last two)."""
    raw = (table.schema.metadata or {}).get(_AXES_KEY)
    return list(json.loads(raw)) if raw is not None else list(table.column_names[:-2])


def read_entries(folder: str | os.PathLike[str]) -> tuple[list[str], list[Entry]]:
    """The reduced axes and every entry of a reduction folder, from its manifest or else from entry names."""
    try:
        table = read_manifest(folder)
    except MissingResultError:
        return _entries_from_names(Path(folder))
    axes = manifest_axes(table)
    n = len(axes)
    axis_values = [table.column(i).to_pylist() for i in range(n)]
    names = table.column(n).to_pylist()
    paths = table.column(n + 1).to_pylist()
    entries = []
    for row, (name, path) in enumerate(zip(names, paths, strict=True)):
        values_at = zip(axes, (values[row] for values in axis_values), strict=True)
        case = {axis: value for axis, value in values_at if value is not None}
        entries.append((name, case, path))
    return axes, entries


def case_from_entry_name(name: str) -> dict[str, str]:
    """The case an entry name spells: `A=x&B=y` gives `{A: x, B: y}`; `default` and other names give `{}`."""
    return case_of_dirname(name)


def _entries_from_names(folder: Path) -> tuple[list[str], list[Entry]]:
    try:
        names = sorted(entry.name for entry in os.scandir(folder) if not entry.name.startswith("."))
    except FileNotFoundError:
        raise MissingResultError(folder) from None
    except OSError as e:
        raise ResultReadError(folder, e.strerror or str(e)) from None
    axes: dict[str, None] = {}
    entries: list[Entry] = []
    for name in names:
        case = case_from_entry_name(name)
        axes.update(dict.fromkeys(case))
        entries.append((name, case, str(folder / name)))
    return sorted(axes), entries
