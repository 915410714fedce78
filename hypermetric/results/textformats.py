"""Output text to records: JSON, JSON lines, CSV/TSV with a header, and `name [id] value` lines.

Text cells that look like numbers become `int` or `float` (`nan`/`inf` included); JSON keeps its own types.
Nested JSON objects are flattened with `.` (`{"a": {"b": 1}}` gives `a.b`). In `name id value` text
(trec_eval's output), the lines whose id is `all` form one record; with `per_query=True` every other id gets
its own record with an `id` field, followed by the `all` record (`id` = `all`). A file with per-query lines
only gives the per-query records even without `per_query`, since there is no summary to return. JSON nested
deeper than the interpreter can parse is an unreadable file, not a crash.
"""

from __future__ import annotations

import csv
import io
import json
import re
from typing import Any

from hypermetric.results.failures import ResultReadError

Record = dict[str, Any]

_INT = re.compile(r"[+-]?[0-9]+\Z")
_SPECIAL_FLOATS = frozenset({"nan", "+nan", "-nan", "inf", "+inf", "-inf",
                             "infinity", "+infinity", "-infinity"})
TOO_DEEP = "JSON nested too deeply to read"


def parse_scalar(text: str) -> Any:
    """`int` or `float` when `text` spells a number (`nan`, `inf` too), `None` when blank, else `text`."""
    s = text.strip()
    if not s:
        return None
    if _INT.match(s):
        return int(s)
    if (s[0] in "0123456789+-." and "_" not in s) or s.lower() in _SPECIAL_FLOATS:
        try:
            return float(s)
        except ValueError:
            pass
    return text


def flatten(obj: dict[str, Any]) -> Record:
    """`obj` with nested objects spliced in under dotted keys; `obj` itself when nothing is nested."""
    for value in obj.values():
        if type(value) is dict:
            break
    else:
        return obj
    out: Record = {}
    _flatten_into(out, obj, "")
    return out


def _flatten_into(out: Record, obj: dict[str, Any], prefix: str) -> None:
    # A stack rather than recursion: a deeply nested object must not exhaust the interpreter's stack.
    stack = [(prefix, iter(obj.items()))]
    while stack:
        prefix, items = stack[-1]
        for key, value in items:
            if type(value) is dict:
                stack.append((f"{prefix}{key}.", iter(value.items())))
                break
            out[f"{prefix}{key}"] = value
        else:
            stack.pop()


def parse_text(text: str, fmt: str | None, *, path: str = "<text>", per_query: bool = False) -> list[Record]:
    """Records from the text of an output file in format `fmt` (`None`: tell from the content)."""
    if fmt == "json":
        return _json_records(_load_json(text, path), path)
    if fmt == "jsonl":
        return _jsonl_records(text, path)
    if fmt in ("csv", "tsv"):
        return _csv_records(text, "\t" if fmt == "tsv" else sniff_delimiter(text), path)
    if fmt == "text":
        return _text_records(text, path, per_query)
    return _sniffed_records(text, path, per_query)


def sniff_format(text: str) -> str | None:
    """What `parse_text` reads `text` as when no format is given: `json` (a JSON value, else JSON lines),
    `csv`, `tsv` or `text`; None for blank text."""
    stripped = text.lstrip()
    if not stripped:
        return None
    if stripped[0] in "{[":
        return "json"
    first = stripped.split("\n", 1)[0]
    if "," in first:
        return "csv"
    if "\t" in first and _looks_like_tsv(stripped):
        return "tsv"
    return "text"


def _sniffed_records(text: str, path: str, per_query: bool) -> list[Record]:
    kind = sniff_format(text)
    if kind is None:
        return []
    if kind == "json":
        stripped = text.lstrip()
        try:
            return _json_records(json.loads(stripped), path)
        except json.JSONDecodeError:
            return _jsonl_records(text, path)
        except RecursionError:
            raise ResultReadError(path, TOO_DEEP) from None
    if kind == "csv":
        return _csv_records(text, sniff_delimiter(text), path)
    if kind == "tsv":
        return _csv_records(text, "\t", path)
    return _text_records(text, path, per_query)


def _looks_like_tsv(text: str) -> bool:
    """A tab-separated header (no numbers, no `all` id column) over rows with the same number of fields."""
    # The header is judged before the other lines are split: a large trec_eval file is decided by its first.
    # (`text` starts with a field, so its first line is the header.)
    header = [c.strip() for c in text.partition("\n")[0].splitlines()[0].split("\t")]
    if len(header) == 3 and header[1] == "all":
        return False
    if any(isinstance(parse_scalar(c), (int, float)) for c in header):
        return False
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if len(lines) < 2:
        return False
    return all(line.count("\t") == len(header) - 1 for line in lines[1:])


def sniff_delimiter(text: str) -> str:
    try:
        return csv.Sniffer().sniff(text[:8192], delimiters=",\t;|").delimiter
    except (csv.Error, RecursionError):
        return ","


def _load_json(text: str, path: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise ResultReadError(path, f"invalid JSON at line {e.lineno} column {e.colno}: {e.msg}") from None
    except RecursionError:
        raise ResultReadError(path, TOO_DEEP) from None


def _json_records(value: Any, path: str) -> list[Record]:
    if type(value) is dict:
        return [flatten(value)]
    if isinstance(value, list):
        if not all(type(item) is dict for item in value):
            raise ResultReadError(path, "a JSON array whose items are not all objects")
        return [flatten(item) for item in value]
    return [{"value": value}]


def _jsonl_records(text: str, path: str) -> list[Record]:
    records: list[Record] = []
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as e:
            raise ResultReadError(path, f"invalid JSON on line {lineno}: {e.msg}") from None
        except RecursionError:
            raise ResultReadError(path, f"line {lineno}: {TOO_DEEP}") from None
        records.extend(_json_records(value, path))
    return records


def _csv_records(text: str, delimiter: str, path: str) -> list[Record]:
    rows = [row for row in csv.reader(io.StringIO(text), delimiter=delimiter) if row]
    if not rows:
        return []
    header = [name.strip() or f"column{i + 1}" for i, name in enumerate(rows[0])]
    width = len(header)
    records: list[Record] = []
    for lineno, row in enumerate(rows[1:], 2):
        if len(row) > width:
            raise ResultReadError(path, f"row {lineno} has {len(row)} fields but the header has {width}")
        record = dict(zip(header, map(parse_scalar, row), strict=False))
        for name in header[len(row):]:
            record[name] = None
        records.append(record)
    return records


def _text_records(text: str, path: str, per_query: bool) -> list[Record]:
    summary: Record = {}
    per_id: dict[str, Record] = {}
    lines = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    for lineno, line in enumerate(lines, 1):
        fields = [f.strip() for f in line.split("\t")] if "\t" in line else line.split()
        if len(fields) == 2:
            summary[fields[0]] = parse_scalar(fields[1])
        elif len(fields) == 3 and fields[1] == "all":
            summary[fields[0]] = parse_scalar(fields[2])
        elif len(fields) == 3:
            per_id.setdefault(fields[1], {"id": fields[1]})[fields[0]] = parse_scalar(fields[2])
        elif len(fields) == 1 and len(lines) == 1:
            return [{"value": parse_scalar(fields[0])}]
        else:
            raise ResultReadError(path, f"line {lineno}: expected `name value` or `name id value`, "
                                        f"found {len(fields)} fields")
    if not per_id:
        return [summary] if summary else []
    if per_query or not summary:
        return [*per_id.values(), *([{"id": "all", **summary}] if summary else [])]
    return [summary]


