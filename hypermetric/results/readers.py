"""One output file to records or, when it is large, to an Arrow table.

The format comes from the file's suffix and, for any other suffix, from its content: JSON, JSON lines,
CSV/TSV with a header and `name [id] value` text lines are parsed in Python (see `textformats`); Parquet and
Arrow files, and CSV/TSV files of `LARGE_TEXT_BYTES` or more, are read by pyarrow's own readers, which take a
fraction of the memory Python objects would (see `tablereaders`). `read_output` reads `name id value` text of
`COLUMNAR_TEXT_BYTES` or more (trec_eval's per-query output) column by column into a table, with the same
values and types as the Python parser's (see `textcolumns`).

An output is written by a job, so it may be anything: reading is bounded. Only regular files are read (a FIFO
would block forever, a link to `/dev/zero` would never end), text parsed in Python is refused past
`MAX_TEXT_BYTES`, and text holding NUL bytes is binary, not results. Each of these is a `ResultReadError`
with a reason, which `results` shows as an `unreadable` row.
"""

from __future__ import annotations

import os
import stat
from typing import TYPE_CHECKING, Any

from hypermetric.results.failures import MissingResultError, ResultReadError
from hypermetric.results.textformats import Record, flatten, parse_scalar, parse_text, sniff_format

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["FORMATS", "MissingResultError", "Record", "ResultReadError", "detect_format", "flatten",
           "parse_scalar", "parse_text", "read_job_meta", "read_output", "read_records"]

_SUFFIXES = {
    ".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".tsv": "tsv", ".tab": "tsv",
    ".parquet": "parquet", ".pq": "parquet", ".arrow": "arrow", ".feather": "arrow", ".ipc": "arrow",
    ".arrows": "arrow",
}
FORMATS = frozenset(_SUFFIXES.values()) | {"text"}
MAX_TEXT_BYTES = 128 * 2**20  # Python objects take ten times the text's size, or more
LARGE_TEXT_BYTES = 8 * 2**20  # CSV/TSV from this size on goes to pyarrow's reader
# `name id value` text from this size on (~3,500 trec_eval lines) is read column-wise: a few files of it
# outweigh the ~45 ms it takes to load Arrow's compute functions, which the Python parser does not need.
COLUMNAR_TEXT_BYTES = 2**17
MAX_TABLE_BYTES = 8 * 2**30
_KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


def detect_format(path: str | os.PathLike[str]) -> str | None:
    """The format named by the suffix of `path`, or `None` when the content must decide."""
    return _SUFFIXES.get(os.path.splitext(os.fspath(path))[1].lower())


def read_records(path: str | os.PathLike[str], *, per_query: bool = False,
                 format: str | None = None) -> list[Record]:
    """The records in the output file at `path` (see the module docstring for the formats)."""
    out = _read(os.fspath(path), per_query, format, text_tables=False)
    return out if isinstance(out, list) else [flatten(record) for record in out.to_pylist()]


def read_output(path: str | os.PathLike[str], *, per_query: bool = False,
                format: str | None = None) -> list[Record] | pa.Table:
    """The records of the output file at `path`, or a `pyarrow.Table` of them where the file is large (a
    big CSV/TSV, a Parquet/Arrow file of many rows, or large `name id value` text)."""
    return _read(os.fspath(path), per_query, format, text_tables=True)


def _read(p: str, per_query: bool, format: str | None, text_tables: bool) -> list[Record] | pa.Table:
    """`read_output`; with `text_tables` False, `name id value` text always comes back as records, whose
    per-id records hold only the names their lines give (a table's rows would hold every name)."""
    fmt = format or detect_format(p)
    if fmt is not None and fmt not in FORMATS:
        raise ResultReadError(p, f"unknown format `{fmt}`")
    size = _regular_file_size(p)
    if fmt in ("parquet", "arrow"):
        return _table(p, fmt, size)
    if fmt is None:
        fmt = _sniff_binary(_read_bytes(p, 8))
        if fmt is not None:
            return _table(p, fmt, size)
    if fmt in ("csv", "tsv") and size >= LARGE_TEXT_BYTES:
        return _table(p, fmt, size)
    if size > MAX_TEXT_BYTES:
        raise ResultReadError(p, f"{_mib(size)} is over the {_mib(MAX_TEXT_BYTES)} limit for "
                                 f"{fmt or 'text'} outputs; write large results as CSV or Parquet")
    data = _read_bytes(p, MAX_TEXT_BYTES)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise ResultReadError(p, f"not UTF-8 text (byte {e.start}): binary content, not results") from None
    nul = text.find("\0")
    if nul >= 0:
        raise ResultReadError(p, f"binary content (a NUL character at {nul}), not text results")
    if text_tables and len(data) >= COLUMNAR_TEXT_BYTES and (fmt or sniff_format(text)) == "text":
        from hypermetric.results.textcolumns import read_columns

        out = read_columns(data, per_query)
        if out is not None:
            return out
    return parse_text(text, fmt, path=p, per_query=per_query)


def read_job_meta(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The object in a small JSON file such as a job's `job.json`; `{}` when it is missing, not a regular
    file, over 1 MiB, or not a JSON object (a job's script runs in that directory and could put anything
    there)."""
    import json

    p = os.fspath(path)
    try:
        if _regular_file_size(p) > 2**20:
            return {}
        value = json.loads(_read_bytes(p, 2**20))
    except (ResultReadError, ValueError, RecursionError):
        return {}
    return value if isinstance(value, dict) else {}


def _regular_file_size(path: str) -> int:
    """The size of the regular file at `path` (links followed); anything else is refused before it is
    opened, since opening a FIFO blocks and reading a device may never end."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise MissingResultError(path) from None
    except OSError as e:
        raise ResultReadError(path, e.strerror or str(e)) from None
    _require_regular(path, st.st_mode)
    return st.st_size


def _require_regular(path: str, mode: int) -> None:
    if stat.S_ISREG(mode):
        return
    kind = next((name for test, name in _KINDS if test(mode)), "not a regular file")
    raise ResultReadError(path, f"{kind}, not a regular file" if kind != "a directory"
                          else "a directory, not a file")


def _read_bytes(path: str, limit: int) -> bytes:
    """At most `limit` bytes of `path`. Opened without blocking, and checked again once open, so that a file
    swapped for a FIFO after the first check cannot hang the read."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except FileNotFoundError:
        raise MissingResultError(path) from None
    except OSError as e:
        raise ResultReadError(path, e.strerror or str(e)) from None
    try:
        _require_regular(path, os.fstat(fd).st_mode)
        chunks: list[bytes] = []
        left = limit
        while left > 0:
            chunk = os.read(fd, min(left, 2**24))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)
    except OSError as e:
        raise ResultReadError(path, e.strerror or str(e)) from None
    finally:
        os.close(fd)


def _sniff_binary(data: bytes) -> str | None:
    if data[:4] == b"PAR1":
        return "parquet"
    if data[:6] == b"ARROW1" or data[:4] == b"\xff\xff\xff\xff":
        return "arrow"
    return None


def _table(path: str, fmt: str, size: int) -> list[Record] | Any:
    from hypermetric.results import tablereaders

    if size > MAX_TABLE_BYTES:
        raise ResultReadError(path, f"{_mib(size)} is over the {_mib(MAX_TABLE_BYTES)} limit for outputs")
    if fmt in ("csv", "tsv"):
        head = _read_bytes(path, 2**16).decode("utf-8", "replace")
        return tablereaders.read_csv_table(path, "\t" if fmt == "tsv" else _delimiter(head))
    return tablereaders.read_table_file(path, fmt)


def _delimiter(head: str) -> str:
    from hypermetric.results.textformats import sniff_delimiter

    return sniff_delimiter(head.rsplit("\n", 1)[0])


def _mib(size: int) -> str:
    return f"{size / 2**20:,.0f} MiB" if size >= 2**20 else f"{size:,} bytes"
