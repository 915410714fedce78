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
from collections.abc import Sequence
from typing import TYPE_CHECKING

from hypermetric.results.arrow_ipc import string_table_file

if TYPE_CHECKING:
    from pathlib import Path

    import pyarrow as pa

MANIFEST_SUFFIX = ".manifest.arrow"
_AXES_KEY = b"hypermetric.axes"

Entry = tuple[str, dict[str, str], str]


def manifest_path(folder: str | os.PathLike[str]) -> Path:
    """Where the manifest of reduction folder `folder` lives: `.<name>.manifest.arrow` beside it."""
    from pathlib import Path

    return Path(_manifest_file(folder))


def _manifest_file(folder: str | os.PathLike[str]) -> str:
    # (without pathlib, and below without the readers: a job runner writes manifests, and would otherwise
    # import them, and what they import, for that alone)
    parent, name = os.path.split(os.path.abspath(folder))
    return os.path.join(parent, f".{name}{MANIFEST_SUFFIX}")


def write_manifest(folder: str | os.PathLike[str], entries: Sequence[Entry], axes: Sequence[str]) -> str:
    """Write the manifest of reduction folder `folder` (beside it) for `entries` of `(entry name, case, target path)`, atomically.

    A relative target path is taken relative to `folder` (where a relative symlink points from). The file is
    written by `arrow_ipc`, without pyarrow, which would cost the job runner more CPU to import than the
    rest of a job; pyarrow reads it as it read what pyarrow wrote.
    """
    target = _manifest_file(folder)
    columns = [[case.get(axis) for _, case, _ in entries] for axis in axes]
    columns.append([name for name, _, _ in entries])
    base, join, normpath = os.path.abspath(folder), os.path.join, os.path.normpath
    columns.append([normpath(path if path[:1] == "/" else join(base, path)) for _, _, path in entries])
    metadata = [(_AXES_KEY, json.dumps(list(axes)).encode())]
    parts = string_table_file([*axes, "entry", "path"], columns, metadata)
    tmp = f"{target}.tmp-{os.getpid()}"
    try:
        with open(tmp, "wb") as out:
            out.writelines(parts)
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return target


def read_manifest(folder: str | os.PathLike[str]) -> pa.Table:
    """The manifest table of a reduction folder; `MissingResultError` when it has none."""
    import pyarrow as pa
    from pyarrow import ipc

    from hypermetric.results.readers import MissingResultError, ResultReadError

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
    from pathlib import Path

    from hypermetric.results.readers import MissingResultError

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
    from hypermetric.model.case import case_of_dirname

    return case_of_dirname(name)


def _entries_from_names(folder: Path) -> tuple[list[str], list[Entry]]:
    from hypermetric.results.readers import MissingResultError, ResultReadError

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
